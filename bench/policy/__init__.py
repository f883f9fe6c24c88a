"""Policy benchmark: the resolver with 6 groups, profiles and schedules vs one group."""
