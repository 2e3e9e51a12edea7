// cert generate: writes a self-signed certificate and its key as PEM.
#include "commands.hpp"

#include <postern/tls/certificate.hpp>

#include <iostream>
#include <string>
#include <string_view>
#include <utility>

namespace postern_server {

namespace {

// The first name is also the subject common name, which RFC 5280,
// appendix A.1 (ub-common-name), limits to 64 characters.
constexpr std::size_t max_common_name = 64;

void check_name(const std::string& name)
{
    if (!postern::tls::valid_certificate_name(name))
        throw command_error(exit_invalid,
                            "invalid certificate name \"" + name + "\"");
}

// Returns "*.DOMAIN" for --wildcard DOMAIN, which may start with "*.".
std::string wildcard_name(std::string_view domain)
{
    if (domain.starts_with("*."))
        domain.remove_prefix(2);
    std::string name = "*." + std::string(domain);
    // A wildcard matches DNS names only (RFC 6125, section 6.4.3), so
    // "*.192.0.2.1" would certify nothing.
    if (postern::tls::is_ip_address(domain))
        throw command_error(exit_invalid,
                            "invalid certificate name \"" + name +
                                "\": a wildcard cannot cover an IP"
                                " address; pass the address as --identity");
    return name;
}

// Without --identity and --wildcard the names are those that `run` would
// generate: [tls] names, by default the server identity.
std::vector<std::string> certificate_names(const config& settings,
                                           const cert_command& command)
{
    if (!command.identity && !command.wildcard)
        return settings.tls.names;

    std::vector<std::string> names{
        command.identity.value_or(settings.identity)};
    if (command.wildcard)
        names.push_back(wildcard_name(*command.wildcard));
    return names;
}

void check_names(const std::vector<std::string>& names)
{
    for (const std::string& name : names)
        check_name(name);
    if (names.front().size() > max_common_name)
        throw command_error(exit_invalid,
                            "the first certificate name \"" +
                                names.front() +
                                "\" is longer than 64 characters, the"
                                " limit of a subject common name");
}

// --out DIR writes DIR/cert.pem and DIR/key.pem; without it the files are
// the configured [tls] certificate and private_key.
std::pair<std::filesystem::path, std::filesystem::path>
output_paths(const config& settings, const cert_command& command)
{
    if (!command.out)
        return {settings.tls.certificate, settings.tls.private_key};
    std::filesystem::path folder = std::filesystem::absolute(*command.out);
    return {folder / "cert.pem", folder / "key.pem"};
}

} // namespace

int generate_certificate(const config& settings, const cert_command& command)
{
    postern::tls::certificate_options options;
    options.names = certificate_names(settings, command);
    options.days = command.days;
    check_names(options.names);

    auto [certificate, key] = output_paths(settings, command);
    create_private_folder(key.parent_path());
    std::error_code error =
        postern::tls::generate_self_signed(options, certificate, key);
    if (error)
        throw command_error(exit_unavailable,
                            "cannot write " + certificate.string() +
                                " and " + key.string() + ": " +
                                error.message());

    std::cout << certificate.string() << '\n' << key.string() << '\n';
    return exit_success;
}

} // namespace postern_server
