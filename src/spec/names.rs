//! How every verb answers a service name the project does not have.

/// `no such service: pepsy (did you mean pepsi?; services: cocacola, pepsi)`:
/// the near name when there is one, and every service.
pub fn no_such_service(name: &str, services: &[String]) -> String {
    let shown = super::printable(name);
    if services.is_empty() {
        return format!("no such service: {shown} (the project has no services)");
    }
    let near = super::load::suggest(name, services)
        .map(|s| format!("did you mean {s}?; "))
        .unwrap_or_default();
    format!(
        "no such service: {shown} ({near}services: {})",
        services.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_near_name_and_the_list() {
        let svcs = vec!["cocacola".to_string(), "pepsi".to_string()];
        assert_eq!(
            no_such_service("pepsy", &svcs),
            "no such service: pepsy (did you mean pepsi?; services: cocacola, pepsi)"
        );
        assert_eq!(
            no_such_service("fanta", &svcs),
            "no such service: fanta (services: cocacola, pepsi)"
        );
        assert_eq!(
            no_such_service("x\u{1b}[2J", &[]),
            "no such service: x\\u{1b}[2J (the project has no services)"
        );
    }
}
