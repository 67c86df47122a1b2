"""待办事项 / 通用审批: the inbox and the review dialog."""
