//! One cgroup per container, `stack/<project>/<service>`, on v1 and v2.
