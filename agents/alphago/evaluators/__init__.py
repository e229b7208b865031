"""What the search asks at a leaf: (priors, values) for a batch of positions, from rollouts,
from the networks, or AlphaGo's lambda-mix of both."""
