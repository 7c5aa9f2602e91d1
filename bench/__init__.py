"""fedipub's benchmarks: each one measures a figure and, in the same run, the ceiling it is
judged against, and prints both with their ratio and the command that reproduces them.

    python -m bench            # all of them; writes bench/RESULTS.md
    python -m bench.inbox      # signed replies into the inbox, vs a bare verify-and-insert app
    python -m bench.fanout     # one article to 10,000 followers on 1,000 hosts, vs RSA sign/s
    python -m bench.page       # the article page with 10, 100 and 1,000 comments
    python -m bench.fetch      # AS2 GETs of the actor and an article, vs a bare JSON GET
    python -m bench.memory     # idle RSS of `fedipub serve`

Everything runs on 127.0.0.1, bounded in count and time: servers are subprocesses that die
with the benchmark (`launch.py`), and every load has a deadline.
"""
