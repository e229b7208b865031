"""The factory: replay storage and samplers, the actor/learner runtime (in-process or on Ray),
run directories, resume, and the arena. The only layer that imports ray."""
