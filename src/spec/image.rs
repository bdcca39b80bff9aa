//! The loader for `image:`, `platform:` and `pull_policy:`.

use super::draft::Draft;
use super::load::*;
use super::model::*;
use super::units::Millis;
use super::yaml::{Key, Kind, Node};
use crate::image::Source;

impl Cx<'_> {
    /// `rootfs` or `image` of service `name`: one of the two, once.
    pub(super) fn root_key(&mut self, d: &mut Draft, name: &str, k: &Key, v: &Node, p: &str) {
        let at = (v.pos, p.to_string());
        let other = if k.name == "image" {
            d.image_at = Some(at);
            d.rootfs_at.as_ref()
        } else {
            d.rootfs_at = Some(at);
            d.image_at.as_ref()
        };
        if let Some((_, other)) = other {
            let msg = format!("service `{name}` has both `image` and `rootfs` (also at {other}): keep one; `image` is an OCI image, `rootfs` a local root filesystem");
            self.err(k.pos, p, msg);
        }
        d.saw_rootfs = true;
        d.rootfs = if k.name == "image" {
            self.image(v, p)
        } else {
            self.rootfs(v, p)
        };
    }

    /// `image:`: a registry reference or a local source (`oci:`,
    /// `oci-archive:`, `docker-archive:`), whose path must exist now.
    pub fn image(&mut self, n: &Node, path: &str) -> Option<Rootfs> {
        let written = self.string(n, path)?;
        let source = match Source::parse(&written) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("{e} (write a reference such as `postgres:16`, or a local `oci:DIR`, `oci-archive:FILE` or `docker-archive:FILE`)");
                self.err(n.pos, path, msg);
                return None;
            }
        };
        let reference = match &source {
            Source::Registry(_) => written,
            Source::OciLayout { path: p, tag } => self.local(n, path, "oci", p, tag, true)?,
            Source::OciArchive { path: p, tag } => {
                self.local(n, path, "oci-archive", p, tag, false)?
            }
            Source::DockerArchive { path: p, reference } => {
                self.local(n, path, "docker-archive", p, reference, false)?
            }
        };
        Some(Rootfs::Image(Image {
            reference,
            platform: None,
            id: None,
            layers: Vec::new(),
            keep: ImageKeep::default(),
        }))
    }

    /// A local source, its path made absolute (relative to the stack file)
    /// and checked.
    fn local(
        &mut self,
        n: &Node,
        path: &str,
        transport: &str,
        p: &std::path::Path,
        name: &Option<String>,
        dir: bool,
    ) -> Option<String> {
        let abs = self.abs(&p.to_string_lossy());
        let ok = if dir { abs.is_dir() } else { abs.is_file() };
        if !ok {
            let what = if dir {
                "an OCI image layout directory"
            } else {
                "an archive file"
            };
            let msg = format!(
                "image {transport}:{}: not found (looked at {}, for {what}; the path is relative to the stack file)",
                p.display(),
                abs.display()
            );
            self.err(n.pos, path, msg);
            return None;
        }
        let abs = abs.to_string_lossy();
        if abs.contains(':') {
            let msg = format!("image {transport}:{abs}: the path may not contain `:` (it would end the path); move or rename it");
            self.err(n.pos, path, msg);
            return None;
        }
        Some(match name {
            Some(t) => format!("{transport}:{abs}:{t}"),
            None => format!("{transport}:{abs}"),
        })
    }

    /// Once every key of service `name` is read: `platform` and the keys
    /// the file gave go into its image; `platform` without one is an error.
    pub(super) fn image_done(&mut self, d: &mut Draft, name: &str) {
        let saw_stop_signal = d.saw_stop_signal;
        let healthcheck = d.healthcheck_given;
        match (&mut d.rootfs, d.platform.take()) {
            (Some(Rootfs::Image(img)), platform) => {
                img.platform = platform.map(|(s, _, _)| s);
                img.keep = ImageKeep {
                    stop_signal: saw_stop_signal,
                    healthcheck,
                };
            }
            (_, Some((_, pos, p))) if d.rootfs_at.is_some() => {
                let msg = format!("service `{name}`: `platform` picks an image's platform, and this service has a `rootfs`, not an `image`: remove it");
                self.err(pos, &p, msg);
            }
            _ => {}
        }
    }

    /// `platform:` as `os/arch[/variant]`.
    pub fn platform(&mut self, n: &Node, path: &str) -> Option<String> {
        let s = self.string(n, path)?;
        match crate::image::Platform::parse(&s) {
            Ok(_) => Some(s),
            Err(e) => {
                self.err(
                    n.pos,
                    path,
                    format!("{e} (write it as linux/amd64 or linux/arm/v7)"),
                );
                None
            }
        }
    }

    /// `pull_policy:` as Compose spells it.
    pub fn pull_policy(&mut self, n: &Node, path: &str) -> Option<PullPolicy> {
        let Kind::Scalar { value, .. } = &n.kind else {
            self.err(
                n.pos,
                path,
                format!("expected a pull policy, found {}", n.describe()),
            );
            return None;
        };
        let day = 24 * 3600 * 1000;
        let policy = match value.as_str() {
            "missing" | "if_not_present" => PullPolicy::Missing,
            "always" => PullPolicy::Always,
            "never" => PullPolicy::Never,
            "daily" => PullPolicy::Every(Millis(day)),
            "weekly" => PullPolicy::Every(Millis(7 * day)),
            "build" => {
                self.err(n.pos, path, "`pull_policy: build` needs a build, and stack has no builds: give an `image:` to pull, or a `rootfs:`");
                return None;
            }
            v => match v.strip_prefix("every_").map(Millis::parse) {
                Some(Ok(m)) if m.0 > 0 => PullPolicy::Every(m),
                Some(_) => {
                    self.err(n.pos, path, format!("pull_policy {v:?}: the duration after `every_` is not valid (e.g. every_12h, every_30m)"));
                    return None;
                }
                None => {
                    let msg = format!("pull_policy {v:?} is not one of always, never, missing, daily, weekly, every_<duration> (e.g. every_12h)");
                    self.err(n.pos, path, msg);
                    return None;
                }
            },
        };
        Some(policy)
    }
}
