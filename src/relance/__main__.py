"""`python -m relance`: the `relance` command, as `relance serve` starts its delivery process."""

from relance import main

main()
