"""Household faces: finding and embedding faces, the gallery of members, and who a person is."""
