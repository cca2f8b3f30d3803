"""Thin shim for tools that still call setup.py; pyproject.toml is the build description."""

from setuptools import setup

setup()
