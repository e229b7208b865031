"""AlphaGo-style Go players: tree search, evaluators, features and networks."""
