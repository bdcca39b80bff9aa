//! Device access control: which device nodes a container may create and
//! open (the v1 `devices` cgroup, a `BPF_CGROUP_DEVICE` program on v2).
