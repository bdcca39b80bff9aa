//! Loader tests for `image:`, `platform:` and `pull_policy:` (issue 12).

use super::*;

fn svc(body: &str) -> String {
    format!("services:\n  a:\n    {body}\n")
}

#[test]
fn an_image_is_the_root_filesystem() {
    let s = ok(&svc("image: postgres:16\n    platform: linux/arm64\n    pull_policy: every_12h\n    stop_signal: SIGTERM"));
    let a = &s.services["a"];
    let Rootfs::Image(img) = &a.rootfs else {
        panic!("{:?}", a.rootfs)
    };
    assert_eq!(img.reference, "postgres:16");
    assert_eq!(img.platform.as_deref(), Some("linux/arm64"));
    assert!(
        img.keep.stop_signal,
        "a given stop_signal is kept even at its default"
    );
    assert!(!img.keep.healthcheck);
    assert_eq!(a.pull_policy, PullPolicy::Every(Millis(12 * 3600 * 1000)));
    for (w, p) in [
        ("missing", PullPolicy::Missing),
        ("if_not_present", PullPolicy::Missing),
        ("always", PullPolicy::Always),
        ("never", PullPolicy::Never),
        ("daily", PullPolicy::Every(Millis(86_400_000))),
        ("weekly", PullPolicy::Every(Millis(7 * 86_400_000))),
    ] {
        let s = ok(&svc(&format!("image: alpine\n    pull_policy: {w}")));
        assert_eq!(s.services["a"].pull_policy, p, "{w}");
    }
    let s = ok(&svc("image: alpine\n    healthcheck: { disable: true }"));
    let Rootfs::Image(img) = &s.services["a"].rootfs else {
        panic!()
    };
    assert!(
        img.keep.healthcheck,
        "a disabled healthcheck stays disabled"
    );
}

#[test]
fn a_local_image_path_is_relative_to_the_file_and_must_exist() {
    let d = Dir::new();
    d.mkdir("img");
    d.write("saved.tar", "x");
    let yaml = svc("image: oci:./img:v1\n  b:\n    image: docker-archive:saved.tar");
    let (s, _) = load_in(&d, &yaml, &[], &opts()).unwrap();
    let Rootfs::Image(a) = &s.services["a"].rootfs else {
        panic!()
    };
    assert_eq!(
        a.reference,
        format!("oci:{}:v1", d.path().join("img").display())
    );
    let Rootfs::Image(b) = &s.services["b"].rootfs else {
        panic!()
    };
    assert_eq!(
        b.reference,
        format!("docker-archive:{}", d.path().join("saved.tar").display())
    );
    let e = errs_in(&d, &svc("image: oci-archive:./nope.tar"), &[], &opts());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(
            "3:12: services.a.image: image oci-archive:./nope.tar: not found (looked at "
        ),
        "{e:?}"
    );
}

#[test]
fn image_errors_say_what_and_where() {
    for (body, want) in [
        (
            "image: alpine\n    rootfs: { host: [/bin/sh] }",
            "4:5: services.a.rootfs: service `a` has both `image` and `rootfs` (also at services.a.image): keep one; `image` is an OCI image, `rootfs` a local root filesystem",
        ),
        (
            "image: Alpine",
            "3:12: services.a.image: invalid image reference \"Alpine\"",
        ),
        (
            "image: alpine\n    pull_policy: build",
            "4:18: services.a.pull_policy: `pull_policy: build` needs a build, and stack has no builds: give an `image:` to pull, or a `rootfs:`",
        ),
        (
            "image: alpine\n    pull_policy: sometimes",
            "4:18: services.a.pull_policy: pull_policy \"sometimes\" is not one of always, never, missing, daily, weekly, every_<duration> (e.g. every_12h)",
        ),
        (
            "image: alpine\n    pull_policy: every_soon",
            "4:18: services.a.pull_policy: pull_policy \"every_soon\": the duration after `every_` is not valid (e.g. every_12h, every_30m)",
        ),
        (
            "rootfs: { host: [/bin/sh] }\n    platform: linux/amd64",
            "4:5: services.a.platform: service `a`: `platform` picks an image's platform, and this service has a `rootfs`, not an `image`: remove it",
        ),
        (
            "command: [x]",
            "2:3: services.a: service `a` has no `image` or `rootfs` (an image such as `alpine:3.20` or `oci:./dir`, or a root filesystem: a directory, a tarball, or `{ host: [/bin/sh] }`)",
        ),
    ] {
        let e = errs(&svc(body));
        assert_eq!(e.len(), 1, "{body}: {e:#?}");
        assert!(e[0].starts_with(want), "{body}\n  want: {want}\n  got:  {}", e[0]);
    }
}
