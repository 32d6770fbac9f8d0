"""Summarizer: the summary tree, the engines that fill it, and the four output formats."""
