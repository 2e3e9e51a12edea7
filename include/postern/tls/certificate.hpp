// Self-signed X.509 server certificates (RFC 5280) for DNS names, wildcard
// names (RFC 6125, section 6.4.3) and IP addresses, written as PEM files.
#pragma once

#include <postern/tls/context.hpp>

#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::tls {

/// The names a generated certificate certifies and its lifetime.
struct certificate_options {
    /// DNS names and IP addresses, each checked with
    /// valid_certificate_name(). The first is also the subject common name,
    /// so it must be at most 64 characters (ub-common-name, RFC 5280,
    /// appendix A.1).
    std::vector<std::string> names;
    /// Validity in days. 825 is the maximum in Apple's "Requirements for
    /// trusted certificates in iOS 13 and macOS 10.15" for TLS server
    /// certificates issued after 1 July 2019.
    int days = 825;
};

namespace detail {

// Letters, digits and hyphens, 1 to 63 octets, with no hyphen at either
// end: the "LDH" label of RFC 1035, section 2.3.1, which RFC 1123,
// section 2.1, extends to labels that start with a digit.
inline bool valid_dns_label(std::string_view label)
{
    if (label.empty() || label.size() > 63)
        return false;
    if (label.front() == '-' || label.back() == '-')
        return false;
    for (const char c : label) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !digit && c != '-')
            return false;
    }
    return true;
}

// The octets of an IPv4 address in dotted-decimal form or of an IPv6
// address in the text form of RFC 4291, section 2.2, in network order:
// the contents of an iPAddress entry (RFC 5280, section 4.2.1.6). Empty
// for any other text. inet_pton rejects leading zeros, fewer than four
// IPv4 parts, brackets and zone indexes.
inline std::string ip_address_octets(std::string_view name)
{
    // inet_pton reads a NUL-terminated string, so an embedded NUL would
    // hide whatever follows it.
    if (name.find('\0') != std::string_view::npos)
        return {};
    const std::string text(name);
    std::array<unsigned char, 16> octets{};
    std::size_t length = 0;
    if (::inet_pton(AF_INET, text.c_str(), octets.data()) == 1)
        length = 4;
    else if (::inet_pton(AF_INET6, text.c_str(), octets.data()) == 1)
        length = 16;
    return {reinterpret_cast<const char*>(octets.data()), length};
}

inline bool all_digits(std::string_view label)
{
    for (const char c : label) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

} // namespace detail

/// Tells whether `name` is an IP address literal: IPv4 in dotted-decimal
/// form ("192.0.2.1") or IPv6 in RFC 4291 text form ("2001:db8::1"),
/// without brackets, prefix length or zone index.
inline bool is_ip_address(std::string_view name)
{
    return !detail::ip_address_octets(name).empty();
}

/// Checks a name for a certificate: an IP address (is_ip_address()), or LDH
/// labels separated by dots, at most 253 characters, no trailing dot, and a
/// last label that is not all digits. A wildcard is allowed only as a whole
/// leftmost label "*." with at least two labels after it, so
/// "*.example.com" passes and "*.com", "*", "foo.*.com" and "*.192.0.2.1"
/// do not.
inline bool valid_certificate_name(std::string_view name)
{
    if (is_ip_address(name))
        return true;
    if (name.empty() || name.size() > 253)
        return false;

    const bool wildcard = name.starts_with("*.");
    if (wildcard)
        name.remove_prefix(2);

    std::size_t labels = 0;
    for (;;) {
        const std::size_t dot = name.find('.');
        if (!detail::valid_dns_label(name.substr(0, dot)))
            return false;
        ++labels;
        if (dot == std::string_view::npos)
            break;
        name.remove_prefix(dot + 1);
    }
    // A host name never has the dotted-decimal form of an address, because
    // its top-level label is never all digits (RFC 1123, section 2.1).
    // Without this rule "192.0.2.256" or "*.192.0.2.1" would pass as DNS
    // names.
    if (detail::all_digits(name))
        return false;
    return !wildcard || labels >= 2;
}

namespace detail {

template <auto Free>
struct openssl_deleter {
    template <typename T>
    void operator()(T* object) const noexcept
    {
        Free(object);
    }
};

using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free>>;
using extension_ptr =
    std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using general_name_ptr =
    std::unique_ptr<GENERAL_NAME, openssl_deleter<GENERAL_NAME_free>>;
using general_names_ptr =
    std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;
using asn1_string_ptr =
    std::unique_ptr<ASN1_STRING, openssl_deleter<ASN1_STRING_free>>;
using pkey_ctx_ptr =
    std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;

inline std::error_code last_errno()
{
    return {errno, std::system_category()};
}

inline std::error_code check_certificate_options(
    const certificate_options& options)
{
    constexpr std::size_t max_common_name = 64;
    if (options.names.empty() || options.days < 1)
        return std::make_error_code(std::errc::invalid_argument);
    if (options.names.front().size() > max_common_name)
        return std::make_error_code(std::errc::invalid_argument);
    for (const std::string& name : options.names)
        if (!valid_certificate_name(name))
            return std::make_error_code(std::errc::invalid_argument);
    return {};
}

// RSA rather than ECDSA because every TLS client, old ones included, can
// verify an RSA signature.
inline pkey_ptr generate_rsa_key()
{
    constexpr int rsa_bits = 2048;
    const pkey_ctx_ptr context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    if (!context || EVP_PKEY_keygen_init(context.get()) <= 0)
        return nullptr;
    if (EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), rsa_bits) <= 0)
        return nullptr;

    EVP_PKEY* key = nullptr;
    if (EVP_PKEY_generate(context.get(), &key) <= 0)
        return nullptr;
    return pkey_ptr(key);
}

// RFC 5280, section 4.1.2.2: a positive serial number of at most 20
// octets. 159 random bits with the top one set give exactly 20 octets.
inline bool set_random_serial(X509* certificate)
{
    constexpr int serial_bits = 159;
    const bignum_ptr serial(BN_new());
    if (!serial)
        return false;
    if (BN_rand(serial.get(), serial_bits, BN_RAND_TOP_ONE,
                BN_RAND_BOTTOM_ANY)
        != 1)
        return false;
    return BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate))
           != nullptr;
}

// Starting an hour early lets a client whose clock runs slightly behind
// accept a certificate generated a moment ago. notAfter is counted from
// notBefore, so the validity period is exactly `days` days.
inline bool set_validity(X509* certificate, int days)
{
    constexpr long clock_skew_seconds = 3600;
    std::time_t now = std::time(nullptr);
    if (X509_time_adj_ex(X509_getm_notBefore(certificate), 0,
                         -clock_skew_seconds, &now)
        == nullptr)
        return false;
    return X509_time_adj_ex(X509_getm_notAfter(certificate), days,
                            -clock_skew_seconds, &now)
           != nullptr;
}

// Self-signed, so the issuer is the subject.
inline bool set_subject(X509* certificate, std::string_view common_name)
{
    X509_NAME* subject = X509_get_subject_name(certificate);
    const auto* bytes =
        reinterpret_cast<const unsigned char*>(common_name.data());
    if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_ASC,
                                   bytes, static_cast<int>(common_name.size()),
                                   -1, 0)
        != 1)
        return false;
    return X509_set_issuer_name(certificate, subject) == 1;
}

// Adds an extension written in OpenSSL's configuration syntax. Only
// constant values go through here, never a configured name.
inline bool add_extension(X509* certificate, int nid, const char* value)
{
    X509V3_CTX context;
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    const extension_ptr extension(
        X509V3_EXT_conf_nid(nullptr, &context, nid, value));
    if (!extension)
        return false;
    return X509_add_ext(certificate, extension.get(), -1) == 1;
}

// An iPAddress entry for an IP address literal, a dNSName entry for any
// other name. Returns nullptr when OpenSSL cannot allocate.
inline general_name_ptr make_general_name(const std::string& name)
{
    general_name_ptr entry(GENERAL_NAME_new());
    if (!entry)
        return nullptr;

    const std::string octets = ip_address_octets(name);
    const bool address = !octets.empty();
    const std::string& contents = address ? octets : name;
    // An ASN1_IA5STRING and an ASN1_OCTET_STRING are both an ASN1_STRING
    // of another type tag.
    asn1_string_ptr value(address ? ASN1_OCTET_STRING_new()
                                  : ASN1_IA5STRING_new());
    if (!value)
        return nullptr;
    if (ASN1_STRING_set(value.get(), contents.data(),
                        static_cast<int>(contents.size()))
        != 1)
        return nullptr;
    GENERAL_NAME_set0_value(entry.get(), address ? GEN_IPADD : GEN_DNS,
                            value.release());
    return entry;
}

// Builds the subjectAltName from structures rather than from a
// configuration string, so no name is ever parsed as syntax.
inline bool add_subject_alt_names(X509* certificate,
                                  const std::vector<std::string>& names)
{
    const general_names_ptr list(sk_GENERAL_NAME_new_null());
    if (!list)
        return false;
    for (const std::string& name : names) {
        general_name_ptr entry = make_general_name(name);
        if (!entry || sk_GENERAL_NAME_push(list.get(), entry.get()) == 0)
            return false;
        entry.release();
    }
    return X509_add1_ext_i2d(certificate, NID_subject_alt_name, list.get(), 0,
                             X509V3_ADD_DEFAULT)
           == 1;
}

// An end-entity certificate for TLS servers: not a CA, signs handshakes
// (digitalSignature) and, for TLS 1.2 RSA key exchange, decrypts the
// premaster secret (keyEncipherment).
inline bool add_server_extensions(X509* certificate,
                                  const std::vector<std::string>& names)
{
    return add_extension(certificate, NID_basic_constraints,
                         "critical,CA:FALSE")
           && add_extension(certificate, NID_key_usage,
                            "critical,digitalSignature,keyEncipherment")
           && add_extension(certificate, NID_ext_key_usage, "serverAuth")
           && add_extension(certificate, NID_subject_key_identifier, "hash")
           && add_subject_alt_names(certificate, names);
}

inline x509_ptr build_certificate(const certificate_options& options,
                                  EVP_PKEY* key)
{
    x509_ptr certificate(X509_new());
    if (!certificate)
        return nullptr;

    X509* x = certificate.get();
    const bool built = X509_set_version(x, X509_VERSION_3) == 1
                       && set_random_serial(x)
                       && set_validity(x, options.days)
                       && set_subject(x, options.names.front())
                       && X509_set_pubkey(x, key) == 1
                       && add_server_extensions(x, options.names)
                       && X509_sign(x, key, EVP_sha256()) > 0;
    if (!built)
        return nullptr;
    return certificate;
}

// The bytes of a memory BIO, valid until the BIO changes.
inline std::string_view bio_contents(BIO* bio)
{
    BUF_MEM* memory = nullptr;
    BIO_get_mem_ptr(bio, &memory);
    if (memory == nullptr)
        return {};
    return {memory->data, memory->length};
}

// PKCS #8 PEM in a secure-memory BIO, whose buffer OpenSSL wipes when it
// is freed or grown.
inline bio_ptr encode_private_key(EVP_PKEY* key)
{
    bio_ptr pem(BIO_new(BIO_s_secmem()));
    if (!pem)
        return nullptr;
    if (PEM_write_bio_PrivateKey(pem.get(), key, nullptr, nullptr, 0, nullptr,
                                 nullptr)
        != 1)
        return nullptr;
    return pem;
}

inline bio_ptr encode_certificate(X509* certificate)
{
    bio_ptr pem(BIO_new(BIO_s_mem()));
    if (!pem || PEM_write_bio_X509(pem.get(), certificate) != 1)
        return nullptr;
    return pem;
}

// Creates each missing folder of `folder` with `mode`. Written by hand
// because std::filesystem::create_directories always requests 0777 and
// leaves the rest to the umask, which would expose the key's folder.
// Existing folders keep their mode.
inline std::error_code create_folders(const std::filesystem::path& folder,
                                      mode_t mode)
{
    if (folder.empty())
        return {};
    std::error_code ec;
    if (std::filesystem::is_directory(folder, ec))
        return {};
    if (const auto parent_error = create_folders(folder.parent_path(), mode))
        return parent_error;
    if (::mkdir(folder.c_str(), mode) != 0 && errno != EEXIST)
        return last_errno();
    return {};
}

inline std::error_code write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return last_errno();
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

inline std::error_code make_temporary_path(const std::filesystem::path& file,
                                           std::filesystem::path& temporary)
{
    std::array<unsigned char, 6> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
        return take_openssl_error();

    constexpr std::string_view hex = "0123456789abcdef";
    std::string name = "." + file.filename().string() + ".tmp-";
    for (const unsigned char byte : random) {
        name += hex[byte >> 4];
        name += hex[byte & 0x0f];
    }
    temporary = file;
    temporary.replace_filename(name);
    return {};
}

// Writes `bytes` to a new file beside `file` and flushes it to disk. The
// file is created with `mode` (O_EXCL, so no existing file or symbolic
// link is reused), and fchmod then sets exactly `mode` whatever the umask.
inline std::error_code write_temporary(const std::filesystem::path& file,
                                       std::string_view bytes, mode_t mode,
                                       std::filesystem::path& temporary)
{
    if (const auto ec = make_temporary_path(file, temporary))
        return ec;
    const int fd = ::open(temporary.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                          mode);
    if (fd < 0)
        return last_errno();

    std::error_code ec;
    if (::fchmod(fd, mode) != 0)
        ec = last_errno();
    if (!ec)
        ec = write_all(fd, bytes);
    if (!ec && ::fsync(fd) != 0)
        ec = last_errno();
    if (::close(fd) != 0 && !ec)
        ec = last_errno();
    if (ec)
        ::unlink(temporary.c_str());
    return ec;
}

// Flushes a rename to disk by syncing the folder that contains the entry.
inline std::error_code sync_folder(const std::filesystem::path& file)
{
    std::filesystem::path folder = file.parent_path();
    if (folder.empty())
        folder = ".";
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return last_errno();
    std::error_code ec;
    if (::fsync(fd) != 0)
        ec = last_errno();
    ::close(fd);
    return ec;
}

inline std::error_code rename_into_place(const std::filesystem::path& from,
                                         const std::filesystem::path& to)
{
    if (::rename(from.c_str(), to.c_str()) != 0) {
        const std::error_code ec = last_errno();
        ::unlink(from.c_str());
        return ec;
    }
    return sync_folder(to);
}

// Both files are written completely before either is renamed, so a
// failure leaves any older pair untouched. A crash between the two renames
// can still leave a new key beside an old certificate, which
// make_server_context then reports as a mismatch.
inline std::error_code install_key_pair(const std::filesystem::path& cert_path,
                                        std::string_view cert_pem,
                                        const std::filesystem::path& key_path,
                                        std::string_view key_pem)
{
    constexpr mode_t key_folder_mode = 0700;
    constexpr mode_t cert_folder_mode = 0755;
    constexpr mode_t key_mode = 0600;
    constexpr mode_t cert_mode = 0644;

    if (auto ec = create_folders(key_path.parent_path(), key_folder_mode))
        return ec;
    if (auto ec = create_folders(cert_path.parent_path(), cert_folder_mode))
        return ec;

    std::filesystem::path key_temporary;
    if (auto ec = write_temporary(key_path, key_pem, key_mode, key_temporary))
        return ec;
    std::filesystem::path cert_temporary;
    if (auto ec =
            write_temporary(cert_path, cert_pem, cert_mode, cert_temporary)) {
        ::unlink(key_temporary.c_str());
        return ec;
    }

    if (auto ec = rename_into_place(key_temporary, key_path)) {
        ::unlink(cert_temporary.c_str());
        return ec;
    }
    return rename_into_place(cert_temporary, cert_path);
}

} // namespace detail

/// Generates a self-signed server certificate and its private key and
/// writes them as PEM: an RSA 2048 key, a random serial, SHA-256 signature,
/// subject CN = names[0], a subjectAltName entry for every name (iPAddress
/// for an IP address, dNSName for any other name), basicConstraints
/// CA:FALSE, keyUsage digitalSignature and keyEncipherment,
/// extendedKeyUsage serverAuth.
///
/// Each file is written under a temporary name in its own folder, flushed
/// and renamed over any existing file. The key file has mode 0600 from the
/// moment it exists and the certificate 0644. Missing folders on the key's
/// path are created with mode 0700, those on the certificate's path with
/// 0755.
///
/// @returns std::errc::invalid_argument when `names` is empty, a name fails
///   valid_certificate_name(), names[0] is longer than 64 characters or
///   `days` is below 1; an errno code when a file or folder cannot be
///   written; an OpenSSL code (detail::openssl_category()) when key or
///   certificate generation fails.
inline std::error_code generate_self_signed(
    const certificate_options& options,
    const std::filesystem::path& certificate,
    const std::filesystem::path& private_key)
{
    if (const auto ec = detail::check_certificate_options(options))
        return ec;

    ERR_clear_error();
    const detail::pkey_ptr key = detail::generate_rsa_key();
    if (!key)
        return detail::take_openssl_error();
    const detail::x509_ptr x509 = detail::build_certificate(options, key.get());
    if (!x509)
        return detail::take_openssl_error();

    const detail::bio_ptr key_pem = detail::encode_private_key(key.get());
    const detail::bio_ptr cert_pem = detail::encode_certificate(x509.get());
    if (!key_pem || !cert_pem)
        return detail::take_openssl_error();

    return detail::install_key_pair(
        certificate, detail::bio_contents(cert_pem.get()), private_key,
        detail::bio_contents(key_pem.get()));
}

/// Generates a certificate and key with generate_self_signed() when either
/// file is missing, replacing both. Existing files are kept as they are,
/// even if their names or dates differ from `options`.
///
/// @returns the error of generate_self_signed(), or the error of checking
///   whether a file exists (a folder without search permission, say).
inline std::error_code ensure_certificate(
    const certificate_options& options,
    const std::filesystem::path& certificate,
    const std::filesystem::path& private_key)
{
    std::error_code ec;
    const bool have_certificate = std::filesystem::exists(certificate, ec);
    if (ec)
        return ec;
    const bool have_key = std::filesystem::exists(private_key, ec);
    if (ec)
        return ec;
    if (have_certificate && have_key)
        return {};
    return generate_self_signed(options, certificate, private_key);
}

} // namespace postern::tls
