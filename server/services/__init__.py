"""Use cases. Each public function is one unit of work: it commits what it changed, with the
audit record of the change in the same transaction, or raises AppError having changed nothing."""
