"""Documents of the approval flow (docs/glossary.md: Documents): the licence or certificate a final
approval issues (``issue``), its signature (``signing``), and the PDFs (``render`` draws plain
``sheets`` that ``content`` builds from the database; ``printing`` ties them to the audit log).

Modules are imported by their full names; this package re-exports nothing, so ``approve`` can
import ``issue`` without pulling in reportlab.
"""
