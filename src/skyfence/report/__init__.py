"""Reports, exports and what-if comparisons: the sinks that read a results folder."""
