"""The minds: DQN (agents.dqn) and AlphaGo (agents.alphago). Never imports ray or pygame."""
