"""What counts as identifiable. Such fields appear only in direct-care views, never in logs,
reasons, summaries or commissioner outputs."""

IDENTIFIABLE_COLUMNS = frozenset(
    {"nhs_number", "given_name", "family_name", "date_of_birth", "postcode"}
)
