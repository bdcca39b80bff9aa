//! An image's config applied to a service as Docker and Compose apply it:
//! what the file gives wins, the image fills in the rest. Pure.

use crate::image::{Healthcheck as ImageHealthcheck, ImageConfig};
use crate::spec::units::Millis;
use crate::spec::{Healthcheck, Image, Mount, Service};

/// Fill `svc` from `cfg`:
///
/// - `entrypoint` from the image when the file has none; the image's
///   `Cmd` only then, when the file has no `command` either (a file's
///   `entrypoint` resets the image's `Cmd`, as in Docker);
/// - `environment`: the image's `Env`, under the file's;
/// - `working_dir`, `user`: the image's when the file has none;
/// - `stop_signal`: the image's `StopSignal` unless the file set one;
/// - `healthcheck`: the image's unless the file has one (or disabled it);
/// - `expose`: the image's `ExposedPorts` are added;
/// - `volumes`: each of the image's `Volumes` that no mount of the file
///   covers gets an anonymous volume ([`crate::spec::anonymous_volume`]):
///   kept when the container is recreated, removed by `down -v`, as
///   Compose does. (Docker copies the image's files at that path into a
///   new volume; stack starts it empty.)
pub fn apply(svc: &mut Service, img: &Image, cfg: &ImageConfig) {
    if svc.entrypoint.is_none() {
        svc.entrypoint = cfg.entrypoint.clone().filter(|e| !e.is_empty());
        if svc.command.is_none() {
            svc.command = cfg.cmd.clone().filter(|c| !c.is_empty());
        }
    }
    for kv in &cfg.env {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if !k.is_empty() {
            svc.environment
                .entry(k.to_string())
                .or_insert_with(|| v.to_string());
        }
    }
    if svc.working_dir.is_none() {
        svc.working_dir = cfg.working_dir.clone().filter(|w| !w.is_empty());
    }
    if svc.user.is_none() {
        svc.user = cfg.user.clone().filter(|u| !u.is_empty());
    }
    if !img.keep.stop_signal {
        if let Some(sig) = cfg
            .stop_signal
            .as_deref()
            .and_then(crate::spec::normalize_signal)
        {
            svc.stop_signal = sig;
        }
    }
    if !img.keep.healthcheck && svc.healthcheck.is_none() {
        svc.healthcheck = cfg.healthcheck.as_ref().and_then(healthcheck);
    }
    for path in &cfg.volumes {
        let path = path.trim_end_matches('/');
        let covered = svc.volumes.iter().any(|m| m.target() == path)
            || svc.tmpfs.iter().any(|t| t.split(':').next() == Some(path));
        if path.starts_with('/') && !covered {
            svc.volumes.push(Mount::Volume {
                source: crate::spec::anonymous_volume(&svc.name, path),
                target: path.to_string(),
                read_only: false,
                backing: crate::spec::Backing::Project,
            });
        }
    }
    for p in &cfg.exposed_ports {
        let p = if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        };
        if !svc.expose.contains(&p) {
            svc.expose.push(p);
        }
    }
}

/// Docker's `Healthcheck` as the file's: `NONE` is none, a zero or missing
/// duration is Docker's default (30 s, 30 s, 0 s, 5 s; 3 retries).
fn healthcheck(h: &ImageHealthcheck) -> Option<Healthcheck> {
    let (first, rest) = h.test.split_first()?;
    let test = match first.as_str() {
        "CMD" if !rest.is_empty() => rest.to_vec(),
        "CMD-SHELL" if !rest.is_empty() => {
            vec!["/bin/sh".into(), "-c".into(), rest.join(" ")]
        }
        _ => return None,
    };
    let ms = |d: Option<std::time::Duration>, default: u64| {
        Millis(
            d.map(|d| d.as_millis() as u64)
                .filter(|&m| m > 0)
                .unwrap_or(default),
        )
    };
    Some(Healthcheck {
        test,
        interval: ms(h.interval, 30_000),
        timeout: ms(h.timeout, 30_000),
        retries: h.retries.filter(|&r| r > 0).unwrap_or(3),
        start_period: ms(h.start_period, 0),
        start_interval: ms(h.start_interval, 5_000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ImageKeep, Rootfs};
    use std::time::Duration;

    fn image() -> Image {
        Image {
            reference: "app:1".into(),
            platform: None,
            id: None,
            layers: vec![],
            keep: ImageKeep::default(),
        }
    }

    fn config() -> ImageConfig {
        ImageConfig {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            entrypoint: Some(vec!["/entry".into()]),
            cmd: Some(vec!["serve".into(), "--port=80".into()]),
            env: vec![
                "PATH=/usr/bin:/bin".into(),
                "MODE=image".into(),
                "EMPTY=".into(),
            ],
            working_dir: Some("/srv".into()),
            user: Some("1000:1000".into()),
            stop_signal: Some("SIGQUIT".into()),
            healthcheck: Some(ImageHealthcheck {
                test: vec!["CMD-SHELL".into(), "test -f /ready".into()],
                interval: Some(Duration::from_secs(2)),
                timeout: None,
                start_period: None,
                start_interval: None,
                retries: Some(0),
            }),
            exposed_ports: vec!["80/tcp".into(), "53/udp".into()],
            volumes: vec!["/data".into(), "/cache/".into()],
            labels: Default::default(),
            diff_ids: vec![],
        }
    }

    fn svc() -> Service {
        Service::new("web", Rootfs::Image(image()))
    }

    #[test]
    fn the_image_fills_what_the_file_leaves_out() {
        let mut s = svc();
        s.environment.insert("MODE".into(), "file".into());
        apply(&mut s, &image(), &config());
        assert_eq!(s.argv(), ["/entry", "serve", "--port=80"]);
        assert_eq!(s.environment["MODE"], "file", "the file's environment wins");
        assert_eq!(s.environment["PATH"], "/usr/bin:/bin");
        assert_eq!(s.environment["EMPTY"], "");
        assert_eq!(s.working_dir.as_deref(), Some("/srv"));
        assert_eq!(s.user.as_deref(), Some("1000:1000"));
        assert_eq!(s.stop_signal, "SIGQUIT");
        let hc = s.healthcheck.unwrap();
        assert_eq!(hc.test, ["/bin/sh", "-c", "test -f /ready"]);
        assert_eq!(
            (hc.interval, hc.timeout, hc.retries),
            (Millis(2000), Millis(30_000), 3)
        );
        assert_eq!(s.expose, ["80/tcp", "53/udp"]);
        let targets: Vec<&str> = s.volumes.iter().map(Mount::target).collect();
        assert_eq!(targets, ["/data", "/cache"], "anonymous volumes");
        let Mount::Volume { source, .. } = &s.volumes[0] else {
            panic!("{:?}", s.volumes)
        };
        assert!(source.starts_with("_anon-web-"), "{source}");
    }

    #[test]
    fn a_mount_of_the_file_covers_an_image_volume() {
        let mut s = svc();
        s.volumes.push(Mount::Volume {
            source: "db".into(),
            target: "/data/".into(),
            read_only: false,
            backing: crate::spec::Backing::Project,
        });
        s.tmpfs.push("/cache:size=1m".into());
        apply(&mut s, &image(), &config());
        assert_eq!(s.volumes.len(), 1, "{:?}", s.volumes);
    }

    #[test]
    fn a_file_entrypoint_resets_the_image_cmd() {
        let mut s = svc();
        s.entrypoint = Some(vec!["/bin/echo".into()]);
        apply(&mut s, &image(), &config());
        assert_eq!(s.argv(), ["/bin/echo"]);
        let mut s = svc();
        s.command = Some(vec!["other".into()]);
        apply(&mut s, &image(), &config());
        assert_eq!(
            s.argv(),
            ["/entry", "other"],
            "a file command keeps the image entrypoint"
        );
    }

    #[test]
    fn keys_the_file_gave_keep_their_value() {
        let mut s = svc();
        let mut img = image();
        img.keep = ImageKeep {
            stop_signal: true,
            healthcheck: true,
        };
        apply(&mut s, &img, &config());
        assert_eq!(s.stop_signal, "SIGTERM");
        assert!(
            s.healthcheck.is_none(),
            "disabled in the file stays disabled"
        );
    }

    #[test]
    fn an_image_healthcheck_of_none_is_none() {
        let mut cfg = config();
        cfg.healthcheck = Some(ImageHealthcheck {
            test: vec!["NONE".into()],
            ..Default::default()
        });
        let mut s = svc();
        apply(&mut s, &image(), &cfg);
        assert!(s.healthcheck.is_none());
    }
}
