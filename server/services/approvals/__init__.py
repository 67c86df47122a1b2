"""The approval engine (通用审批): definitions, intake, routing, actions, gates, inbox, progress."""
