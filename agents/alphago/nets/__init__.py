"""Input features (AlphaGo's planes, symmetries) and the policy and value networks."""
