"""Tests of the vendor dialects."""
