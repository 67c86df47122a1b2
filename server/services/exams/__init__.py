"""Guard exams: pass rules, the enrolment pipeline status, scheduling (docs/exams.md)."""
