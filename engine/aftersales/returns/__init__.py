"""Spare-part returns (§3.1): a returned part is received, inspected and exchanged, credited or refused."""
