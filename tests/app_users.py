"""The month and the users the app tests sign in as."""

MONTH = "2026-11"
PASSWORDS = {
    "admin": "admin-password-1",
    "clin_a": "clin-a-password-1",
    "clin_b": "clin-b-password-1",
    "comm": "comm-password-12",
    "auditor": "audit-password-1",
}
