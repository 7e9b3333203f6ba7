"""Privacy for the review program: redaction, content screening and watermarks."""
