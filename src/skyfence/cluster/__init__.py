"""``analyze --cluster``: an archive of hourly track files analysed on a Dask cluster, with the same
results as one machine.

- :mod:`skyfence.cluster.archive`: which files an archive holds, and the periods the tasks own;
- :mod:`skyfence.cluster.scan`: the first pass, one task a file (its time span, the checks on single
  rows and their counts);
- :mod:`skyfence.cluster.window`: the second pass, one task per period, with a halo of data around it;
- :mod:`skyfence.cluster.stitch`: on the driver, the parts made one (flights numbered, crossings'
  earlier crossings, the summary);
- :mod:`skyfence.cluster.run`: the driver (cluster, futures, progress, failures).

Dask is imported only by :mod:`skyfence.cluster.run`.
"""
