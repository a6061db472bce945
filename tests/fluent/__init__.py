"""Tests of the fluent API and the client."""
