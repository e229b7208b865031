"""Monte-Carlo tree search and the players built on it: the tree arrays and their compiled
kernels, the search loop, time management, and the Player protocol GTP, the GUI and the arena
see."""
