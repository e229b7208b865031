"""Tests of the self-play layer: arena and match statistics."""
