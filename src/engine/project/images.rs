//! `pull` and `images`: the project's images in the machine's image store.

use super::{check_services, Project, ProjectError};
use crate::engine::image::catalog::{images_of, ImageRow};
use crate::engine::image::Fetch;
use crate::spec::Rootfs;

impl Project {
    /// `stack pull [SERVICE…]`: pull the images of these services (all
    /// with `image:` when none is named) again, each image once; a local
    /// source is imported when it changed. Returns the rows pulled.
    pub fn pull(&self, services: &[String]) -> Result<Vec<ImageRow>, ProjectError> {
        let mut stack = self.stack_or_load()?;
        check_services(&stack, services)?;
        stack.services.retain(|name, svc| {
            matches!(svc.rootfs, Rootfs::Image(_))
                && (services.is_empty() || services.contains(name))
        });
        self.resolve(&mut stack, Fetch::Always)?;
        Ok(images_of(&stack)?)
    }

    /// `stack images`: the images the file's services use.
    pub fn images(&self) -> Result<Vec<ImageRow>, ProjectError> {
        let stack = self.stack_or_load()?;
        Ok(images_of(&stack)?)
    }
}
