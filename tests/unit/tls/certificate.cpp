#include <postern/tls/certificate.hpp>

#include "test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

namespace fs = std::filesystem;
using postern::tls::certificate_options;
using postern::tls::generate_self_signed;
using postern::tls::is_ip_address;
using postern::tls::valid_certificate_name;
using postern::tls::test::check_error;
using postern::tls::test::read_file;
using postern::tls::test::temp_folder;
using postern::tls::test::write_file;

struct name_case {
    const char* label;
    std::string name;
};

const certificate_options mail_names{{"mail.example.com", "*.example.com"}};

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

x509_ptr read_certificate(const fs::path& file)
{
    std::FILE* in = std::fopen(file.c_str(), "r");
    BOOST_REQUIRE(in != nullptr);
    X509* certificate = PEM_read_X509(in, nullptr, nullptr, nullptr);
    std::fclose(in);
    BOOST_REQUIRE(certificate != nullptr);
    return {certificate, X509_free};
}

pkey_ptr read_private_key(const fs::path& file)
{
    std::FILE* in = std::fopen(file.c_str(), "r");
    BOOST_REQUIRE(in != nullptr);
    EVP_PKEY* key = PEM_read_PrivateKey(in, nullptr, nullptr, nullptr);
    std::fclose(in);
    BOOST_REQUIRE(key != nullptr);
    return {key, EVP_PKEY_free};
}

std::vector<std::string> subject_alt_names(X509* certificate)
{
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
        certificate, NID_subject_alt_name, nullptr, nullptr));
    BOOST_REQUIRE(names != nullptr);

    std::vector<std::string> result;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        BOOST_TEST(name->type == GEN_DNS);
        const ASN1_IA5STRING* dns = name->d.dNSName;
        result.emplace_back(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
            static_cast<std::size_t>(ASN1_STRING_length(dns)));
    }
    GENERAL_NAMES_free(names);
    return result;
}

// One subjectAltName entry: its GENERAL_NAME type and its contents, the
// text of a dNSName or the octets of an iPAddress.
struct san_entry {
    int type = 0;
    std::string value;

    friend bool operator==(const san_entry&, const san_entry&) = default;
};

// Prints the type and every octet in decimal, for failure messages.
std::ostream& operator<<(std::ostream& out, const san_entry& entry)
{
    out << "type " << entry.type << ':';
    for (const char c : entry.value)
        out << ' ' << static_cast<int>(static_cast<unsigned char>(c));
    return out;
}

std::vector<san_entry> san_entries(X509* certificate)
{
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
        certificate, NID_subject_alt_name, nullptr, nullptr));
    BOOST_REQUIRE(names != nullptr);

    std::vector<san_entry> result;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        // dNSName and iPAddress are both ASN1_STRINGs in the union.
        const ASN1_STRING* contents =
            name->type == GEN_IPADD ? name->d.iPAddress : name->d.dNSName;
        result.push_back(
            {name->type,
             std::string(reinterpret_cast<const char*>(
                             ASN1_STRING_get0_data(contents)),
                         static_cast<std::size_t>(
                             ASN1_STRING_length(contents)))});
    }
    GENERAL_NAMES_free(names);
    return result;
}

std::string common_name(X509* certificate)
{
    char text[256] = {};
    const int length = X509_NAME_get_text_by_NID(
        X509_get_subject_name(certificate), NID_commonName, text,
        sizeof text);
    BOOST_REQUIRE(length >= 0);
    return text;
}

unsigned file_mode(const fs::path& file)
{
    struct stat status {};
    BOOST_REQUIRE(::stat(file.c_str(), &status) == 0);
    return status.st_mode & 07777;
}

std::set<std::string> folder_entries(const fs::path& folder)
{
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder))
        names.insert(entry.path().filename().string());
    return names;
}

// Sets the process umask for one scope, to show that file modes do not
// depend on it.
class umask_override {
public:
    explicit umask_override(mode_t mask) : previous_(::umask(mask)) {}
    umask_override(const umask_override&) = delete;
    umask_override& operator=(const umask_override&) = delete;
    ~umask_override() { ::umask(previous_); }

private:
    mode_t previous_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(certificate)

BOOST_AUTO_TEST_CASE(name_accepts_dns_and_wildcard_names)
{
    const std::string label63(63, 'a');
    // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters.
    const std::string name253 = label63 + "." + label63 + "." + label63 + "."
                                + std::string(61, 'b');
    const name_case cases[] = {
        {"host name", "mail.example.com"},
        {"wildcard", "*.example.com"},
        {"single label", "localhost"},
        {"inner hyphen", "mail-1.example.com"},
        {"leading digit", "1mail.example.com"},
        {"mixed case", "Mail.Example.COM"},
        {"63-character label", label63 + ".example.com"},
        {"253 characters", name253},
        {"numeric inner label", "1.2.3.example.com"},
        {"IPv4 address", "192.0.2.1"},
        {"IPv4 broadcast", "255.255.255.255"},
        {"IPv6 address", "2001:db8::25"},
        {"IPv6 loopback", "::1"},
        {"IPv6 in full", "2001:db8:0:0:0:0:0:25"},
        {"IPv4-mapped IPv6", "::ffff:192.0.2.1"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(valid_certificate_name(c.name));
        }
    }
}

BOOST_AUTO_TEST_CASE(name_rejects_malformed_names)
{
    const std::string label63(63, 'a');
    const std::string name254 = label63 + "." + label63 + "." + label63 + "."
                                + std::string(62, 'b');
    const name_case cases[] = {
        {"empty", ""},
        {"bare star", "*"},
        {"wildcard over one label", "*.com"},
        {"empty label", "a..b"},
        {"star in inner label", "foo.*.com"},
        {"leading hyphen", "-a.com"},
        {"trailing hyphen", "a-.com"},
        {"64-character label", std::string(64, 'a') + ".com"},
        {"254 characters", name254},
        {"trailing dot", "mail.example.com."},
        {"leading dot", ".example.com"},
        {"underscore", "mail_1.example.com"},
        {"space", "mail example.com"},
        {"partial wildcard", "m*.example.com"},
        {"star without dot", "*example.com"},
        {"two wildcards", "*.*.example.com"},
        {"comma", "a.com,DNS:b.com"},
        {"numeric top label", "mail.123"},
        {"single numeric label", "25"},
        {"IPv4 octet over 255", "192.0.2.256"},
        {"IPv4 leading zero", "192.0.2.01"},
        {"IPv4 with three parts", "192.0.2"},
        {"IPv4 with port", "192.0.2.1:25"},
        {"IPv4 with prefix", "192.0.2.0/24"},
        {"IPv4 after NUL", std::string("192.0.2.1\0x", 11)},
        {"wildcard over IPv4", "*.192.0.2.1"},
        {"wildcard over IPv6", "*.::1"},
        {"bracketed IPv6", "[::1]"},
        {"IPv6 zone index", "fe80::1%eth0"},
        {"IPv6 with two gaps", "2001::db8::25"},
        {"IPv6 with space", " ::1"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(!valid_certificate_name(c.name));
        }
    }
}

BOOST_AUTO_TEST_CASE(ip_address_accepts_only_address_literals)
{
    struct literal_case {
        const char* label;
        std::string name;
        bool expected;
    };
    const literal_case cases[] = {
        {"IPv4", "192.0.2.1", true},
        {"IPv6", "2001:db8::25", true},
        {"IPv6 unspecified", "::", true},
        {"IPv4-mapped IPv6", "::ffff:192.0.2.1", true},
        {"host name", "mail.example.com", false},
        {"empty", "", false},
        {"IPv4 with three parts", "192.0.2", false},
        {"IPv4 leading zero", "192.0.2.01", false},
        {"IPv4 in hexadecimal", "0xc0.0.2.1", false},
        {"bracketed IPv6", "[::1]", false},
        {"IPv6 zone index", "fe80::1%eth0", false},
        {"trailing NUL", std::string("::1\0", 4), false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(is_ip_address(c.name) == c.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(generate_writes_names_to_san_and_cn)
{
    const temp_folder folder;
    const auto ec = generate_self_signed(mail_names, folder / "cert.pem",
                                         folder / "key.pem");
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());

    const x509_ptr certificate = read_certificate(folder / "cert.pem");
    const std::vector<std::string> expected{"mail.example.com",
                                            "*.example.com"};
    BOOST_TEST(subject_alt_names(certificate.get()) == expected,
               boost::test_tools::per_element());
    BOOST_TEST(common_name(certificate.get()) == "mail.example.com");
}

BOOST_AUTO_TEST_CASE(generate_writes_ip_addresses_as_ip_entries)
{
    const temp_folder folder;
    const certificate_options options{
        {"192.0.2.25", "mail.example.com", "2001:db8::25"}};
    const auto ec = generate_self_signed(options, folder / "cert.pem",
                                         folder / "key.pem");
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());

    const x509_ptr certificate = read_certificate(folder / "cert.pem");
    const std::vector<san_entry> expected{
        {GEN_IPADD, std::string("\xc0\x00\x02\x19", 4)},
        {GEN_DNS, "mail.example.com"},
        {GEN_IPADD, std::string("\x20\x01\x0d\xb8\x00\x00\x00\x00"
                                "\x00\x00\x00\x00\x00\x00\x00\x25",
                                16)},
    };
    BOOST_TEST(san_entries(certificate.get()) == expected,
               boost::test_tools::per_element());
    BOOST_TEST(common_name(certificate.get()) == "192.0.2.25");
}

BOOST_AUTO_TEST_CASE(generate_ip_entry_matches_address_not_host)
{
    const temp_folder folder;
    const certificate_options options{{"127.0.0.1", "::1"}};
    BOOST_REQUIRE(!generate_self_signed(options, folder / "cert.pem",
                                        folder / "key.pem"));
    const x509_ptr certificate = read_certificate(folder / "cert.pem");
    X509* x = certificate.get();

    // OpenSSL's own checks, as a TLS client runs them. The host check skips
    // the subject, whose common name is "127.0.0.1", so only a dNSName
    // entry could match.
    BOOST_TEST(X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
    BOOST_TEST(X509_check_ip_asc(x, "0:0:0:0:0:0:0:1", 0) == 1);
    BOOST_TEST(X509_check_ip_asc(x, "127.0.0.2", 0) == 0);
    BOOST_TEST(X509_check_host(x, "127.0.0.1", 0,
                               X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr)
               == 0);
}

BOOST_AUTO_TEST_CASE(generate_sets_server_certificate_fields)
{
    const temp_folder folder;
    const auto ec = generate_self_signed(mail_names, folder / "cert.pem",
                                         folder / "key.pem");
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());
    const x509_ptr certificate = read_certificate(folder / "cert.pem");
    X509* x = certificate.get();

    BOOST_TEST(X509_get_version(x) == X509_VERSION_3);
    BOOST_TEST(X509_get_signature_nid(x) == NID_sha256WithRSAEncryption);
    BOOST_TEST(X509_NAME_cmp(X509_get_subject_name(x),
                             X509_get_issuer_name(x))
               == 0);
    BOOST_TEST(X509_check_ca(x) == 0);
    BOOST_TEST(X509_get_key_usage(x)
               == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
    BOOST_TEST(X509_get_extended_key_usage(x) == XKU_SSL_SERVER);
    BOOST_TEST(X509_get0_subject_key_id(x) != nullptr);

    auto* constraints = static_cast<BASIC_CONSTRAINTS*>(
        X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr));
    BOOST_REQUIRE(constraints != nullptr);
    BOOST_TEST(constraints->ca == 0);
    BASIC_CONSTRAINTS_free(constraints);

    EVP_PKEY* public_key = X509_get0_pubkey(x);
    BOOST_TEST(EVP_PKEY_get_base_id(public_key) == EVP_PKEY_RSA);
    BOOST_TEST(EVP_PKEY_get_bits(public_key) == 2048);
    BOOST_TEST(X509_verify(x, public_key) == 1);
}

BOOST_AUTO_TEST_CASE(generate_uses_random_159_bit_serial)
{
    const temp_folder folder;
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "a.pem",
                                        folder / "a.key"));
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "b.pem",
                                        folder / "b.key"));
    const x509_ptr first = read_certificate(folder / "a.pem");
    const x509_ptr second = read_certificate(folder / "b.pem");

    BIGNUM* serial =
        ASN1_INTEGER_to_BN(X509_get0_serialNumber(first.get()), nullptr);
    BOOST_REQUIRE(serial != nullptr);
    BOOST_TEST(BN_num_bits(serial) == 159);
    BOOST_TEST(!BN_is_negative(serial));
    BN_free(serial);

    BOOST_TEST(ASN1_INTEGER_cmp(X509_get0_serialNumber(first.get()),
                                X509_get0_serialNumber(second.get()))
               != 0);
}

BOOST_AUTO_TEST_CASE(generate_sets_validity_in_days)
{
    struct days_case {
        const char* label;
        int days;
    };
    // iOS 13 and macOS 10.15 reject server certificates valid for more
    // than 825 days.
    const days_case cases[] = {
        {"30 days", 30},
        {"default", certificate_options{}.days},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const temp_folder folder;
            const certificate_options options{{"mail.example.com"}, c.days};
            BOOST_REQUIRE(!generate_self_signed(options, folder / "cert.pem",
                                                folder / "key.pem"));
            const x509_ptr certificate =
                read_certificate(folder / "cert.pem");

            int days = 0;
            int seconds = 0;
            BOOST_REQUIRE(ASN1_TIME_diff(
                &days, &seconds, X509_get0_notBefore(certificate.get()),
                X509_get0_notAfter(certificate.get())));
            BOOST_TEST(days == c.days);
            BOOST_TEST(seconds == 0);
        }
    }
    BOOST_TEST(certificate_options{}.days == 825);
}

BOOST_AUTO_TEST_CASE(generate_starts_validity_an_hour_early)
{
    const temp_folder folder;
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "cert.pem",
                                        folder / "key.pem"));
    const x509_ptr certificate = read_certificate(folder / "cert.pem");
    const ASN1_TIME* not_before = X509_get0_notBefore(certificate.get());

    // A margin of 5 seconds either side covers the time the test takes.
    const std::time_t now = std::time(nullptr);
    std::time_t earliest = now - 3600 - 5;
    std::time_t latest = now - 3600 + 5;
    BOOST_TEST(X509_cmp_time(not_before, &earliest) > 0);
    BOOST_TEST(X509_cmp_time(not_before, &latest) < 0);
}

BOOST_AUTO_TEST_CASE(generate_key_matches_certificate)
{
    const temp_folder folder;
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "cert.pem",
                                        folder / "key.pem"));
    const x509_ptr certificate = read_certificate(folder / "cert.pem");
    const pkey_ptr key = read_private_key(folder / "key.pem");
    BOOST_TEST(X509_check_private_key(certificate.get(), key.get()) == 1);
    BOOST_TEST(read_file(folder / "key.pem").starts_with(
        "-----BEGIN PRIVATE KEY-----\n"));
}

BOOST_AUTO_TEST_CASE(generate_sets_file_and_folder_modes)
{
    // With no umask, any mode wider than intended would show.
    const umask_override no_mask(0);
    const temp_folder folder;
    const fs::path key = folder / "private" / "tls" / "key.pem";
    const fs::path cert = folder / "public" / "cert.pem";
    const auto ec = generate_self_signed(mail_names, cert, key);
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());

    BOOST_TEST(file_mode(key) == 0600u);
    BOOST_TEST(file_mode(cert) == 0644u);
    BOOST_TEST(file_mode(folder / "private" / "tls") == 0700u);
    BOOST_TEST(file_mode(folder / "private") == 0700u);
    BOOST_TEST(file_mode(folder / "public") == 0755u);
}

BOOST_AUTO_TEST_CASE(generate_leaves_no_temporary_files)
{
    const temp_folder folder;
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "cert.pem",
                                        folder / "key.pem"));
    const std::set<std::string> expected{"cert.pem", "key.pem"};
    BOOST_TEST(folder_entries(folder.path()) == expected,
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(generate_replaces_existing_pair)
{
    const temp_folder folder;
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "cert.pem",
                                        folder / "key.pem"));
    const std::string first_key = read_file(folder / "key.pem");
    const std::string first_cert = read_file(folder / "cert.pem");

    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "cert.pem",
                                        folder / "key.pem"));
    BOOST_TEST(read_file(folder / "key.pem") != first_key);
    BOOST_TEST(read_file(folder / "cert.pem") != first_cert);
    BOOST_TEST(file_mode(folder / "key.pem") == 0600u);
}

BOOST_AUTO_TEST_CASE(generate_rejects_invalid_options)
{
    struct options_case {
        const char* label;
        certificate_options options;
    };
    const options_case cases[] = {
        {"no names", {{}, 825}},
        {"invalid first name", {{"*.com"}, 825}},
        {"invalid second name", {{"mail.example.com", "a..b"}, 825}},
        {"wildcard over IP address", {{"*.192.0.2.1"}, 825}},
        {"zero days", {{"mail.example.com"}, 0}},
        {"negative days", {{"mail.example.com"}, -1}},
        {"common name over 64 characters",
         {{std::string(65, 'a') + ".example.com"}, 825}},
    };
    const temp_folder folder;
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto ec = generate_self_signed(
                c.options, folder / "cert.pem", folder / "key.pem");
            check_error(ec, std::errc::invalid_argument);
            BOOST_TEST(folder_entries(folder.path()).empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(generate_reports_unwritable_folder)
{
    const temp_folder folder;
    write_file(folder / "not-a-folder", "x");
    const auto ec = generate_self_signed(
        mail_names, folder / "cert.pem", folder / "not-a-folder" / "key.pem");
    check_error(ec, std::errc::not_a_directory);
    BOOST_TEST(!fs::exists(folder / "cert.pem"));
}

BOOST_AUTO_TEST_CASE(ensure_keeps_existing_pair)
{
    const temp_folder folder;
    BOOST_REQUIRE(!generate_self_signed(mail_names, folder / "cert.pem",
                                        folder / "key.pem"));
    const std::string key = read_file(folder / "key.pem");
    const std::string cert = read_file(folder / "cert.pem");

    const auto ec = postern::tls::ensure_certificate(
        {{"other.example.org"}}, folder / "cert.pem", folder / "key.pem");
    BOOST_TEST(!ec);
    BOOST_TEST(read_file(folder / "key.pem") == key);
    BOOST_TEST(read_file(folder / "cert.pem") == cert);
}

BOOST_AUTO_TEST_CASE(ensure_generates_when_a_file_is_missing)
{
    const char* const missing_files[] = {"cert.pem", "key.pem"};
    for (const char* missing : missing_files) {
        BOOST_TEST_CONTEXT("missing " << missing)
        {
            const temp_folder folder;
            BOOST_REQUIRE(!generate_self_signed(
                mail_names, folder / "cert.pem", folder / "key.pem"));
            const std::string cert = read_file(folder / "cert.pem");
            fs::remove(folder / missing);

            const auto ec = postern::tls::ensure_certificate(
                mail_names, folder / "cert.pem", folder / "key.pem");
            BOOST_TEST(!ec);
            BOOST_TEST(fs::exists(folder / "key.pem"));
            BOOST_TEST(read_file(folder / "cert.pem") != cert);
        }
    }
}

BOOST_AUTO_TEST_CASE(ensure_generates_into_empty_folder)
{
    const temp_folder folder;
    const auto ec = postern::tls::ensure_certificate(
        mail_names, folder / "tls" / "cert.pem", folder / "tls" / "key.pem");
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());
    const x509_ptr certificate = read_certificate(folder / "tls" / "cert.pem");
    BOOST_TEST(common_name(certificate.get()) == "mail.example.com");
}

BOOST_AUTO_TEST_SUITE_END()
