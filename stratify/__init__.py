"""stratify: population risk stratification and case conferences for integrated care."""

__version__ = "0.1.0"
