#include <postern/tls/context.hpp>

#include "test_support.hpp"

#include <postern/tls/certificate.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>

namespace postern::tls {

// Lets Boost.Test print tls_version in failure messages.
std::ostream& boost_test_print_type(std::ostream& out, tls_version version)
{
    switch (version) {
    case tls_version::v1_0: return out << "v1_0";
    case tls_version::v1_1: return out << "v1_1";
    case tls_version::v1_2: return out << "v1_2";
    case tls_version::v1_3: return out << "v1_3";
    }
    return out << "tls_version " << static_cast<int>(version);
}

} // namespace postern::tls

namespace {

namespace fs = std::filesystem;
using postern::tls::context_options;
using postern::tls::make_server_context;
using postern::tls::tls_version;
using postern::tls::test::check_error;
using postern::tls::test::read_file;
using postern::tls::test::temp_folder;
using postern::tls::test::write_file;

// A generated certificate and key in a temporary folder.
struct key_pair {
    explicit key_pair(const postern::tls::certificate_options& options)
    {
        const auto ec =
            postern::tls::generate_self_signed(options, certificate, key);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
    }

    temp_folder folder;
    fs::path certificate = folder / "cert.pem";
    fs::path key = folder / "key.pem";
};

const postern::tls::certificate_options wildcard_names{
    {"mail.example.com", "*.example.com"}};

// Runs make_server_context, expecting it to throw, and returns the error.
std::system_error load_failure(const context_options& options)
{
    try {
        make_server_context(options);
    } catch (const std::system_error& failure) {
        return failure;
    }
    BOOST_FAIL("make_server_context did not throw");
    return std::system_error(std::error_code());
}

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(context)

BOOST_AUTO_TEST_CASE(parse_version_accepts_config_values)
{
    struct version_case {
        const char* text;
        tls_version expected;
    };
    const version_case cases[] = {
        {"1.0", tls_version::v1_0},
        {"1.1", tls_version::v1_1},
        {"1.2", tls_version::v1_2},
        {"1.3", tls_version::v1_3},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.text)
        {
            const auto version = postern::tls::parse_tls_version(c.text);
            BOOST_REQUIRE(version.has_value());
            BOOST_TEST(*version == c.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_version_rejects_other_text)
{
    const char* const cases[] = {"",       "1",    "1.4",   "2.0",
                                 "TLSv1.2", " 1.2", "1.2 ", "1,2"};
    for (const char* text : cases) {
        BOOST_TEST_CONTEXT('"' << text << '"')
        {
            BOOST_TEST(!postern::tls::parse_tls_version(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(server_context_loads_wildcard_certificate)
{
    const key_pair pair(wildcard_names);
    asio::ssl::context context =
        make_server_context({pair.certificate, pair.key});
    SSL_CTX* native = context.native_handle();

    X509* loaded = SSL_CTX_get0_certificate(native);
    BOOST_REQUIRE(loaded != nullptr);
    BOOST_TEST(X509_check_host(loaded, "smtp.example.com", 0, 0, nullptr)
               == 1);
    BOOST_TEST(SSL_CTX_get_min_proto_version(native) == TLS1_2_VERSION);
}

BOOST_AUTO_TEST_CASE(server_context_sets_options_and_mode)
{
    const key_pair pair(wildcard_names);
    asio::ssl::context context =
        make_server_context({pair.certificate, pair.key});
    const uint64_t options = SSL_CTX_get_options(context.native_handle());
    const long mode = SSL_CTX_get_mode(context.native_handle());

    BOOST_TEST((options & SSL_OP_NO_COMPRESSION) != 0u);
    BOOST_TEST((options & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0u);
    BOOST_TEST((options & SSL_OP_NO_RENEGOTIATION) != 0u);
    BOOST_TEST((options & SSL_OP_NO_TICKET) == 0u);
    BOOST_TEST((mode & SSL_MODE_RELEASE_BUFFERS) != 0);
}

BOOST_AUTO_TEST_CASE(server_context_sets_min_version)
{
    const key_pair pair(wildcard_names);
    const int default_level = SSL_CTX_get_security_level(
        asio::ssl::context(asio::ssl::context::tls_server).native_handle());

    struct version_case {
        const char* label;
        tls_version version;
        int expected_version;
        int expected_level;
    };
    const version_case cases[] = {
        {"1.0", tls_version::v1_0, TLS1_VERSION, 0},
        {"1.1", tls_version::v1_1, TLS1_1_VERSION, 0},
        {"1.2", tls_version::v1_2, TLS1_2_VERSION, default_level},
        {"1.3", tls_version::v1_3, TLS1_3_VERSION, default_level},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            asio::ssl::context context =
                make_server_context({pair.certificate, pair.key, c.version});
            SSL_CTX* native = context.native_handle();
            BOOST_TEST(SSL_CTX_get_min_proto_version(native)
                       == c.expected_version);
            BOOST_TEST(SSL_CTX_get_security_level(native) == c.expected_level);
        }
    }
}

BOOST_AUTO_TEST_CASE(server_context_loads_certificate_chain)
{
    const key_pair leaf(wildcard_names);
    const key_pair intermediate({{"ca.example.com"}});
    const fs::path chain = leaf.folder / "chain.pem";
    write_file(chain, read_file(leaf.certificate)
                          + read_file(intermediate.certificate));

    asio::ssl::context context = make_server_context({chain, leaf.key});
    STACK_OF(X509)* extra = nullptr;
    BOOST_REQUIRE(SSL_CTX_get0_chain_certs(context.native_handle(), &extra)
                  == 1);
    BOOST_TEST(sk_X509_num(extra) == 1);
}

BOOST_AUTO_TEST_CASE(server_context_rejects_mismatched_key)
{
    const key_pair first(wildcard_names);
    const key_pair second(wildcard_names);
    const std::system_error failure =
        load_failure({first.certificate, second.key});

    BOOST_TEST(failure.code().category().name() == std::string("openssl"));
    BOOST_TEST(ERR_GET_REASON(static_cast<unsigned long>(
                   failure.code().value()))
               == X509_R_KEY_VALUES_MISMATCH);
    BOOST_TEST_MESSAGE(failure.what());
    BOOST_TEST(contains(failure.what(), second.key.string()));
    BOOST_TEST(contains(failure.what(), first.certificate.string()));
    BOOST_TEST(contains(failure.what(), "key values mismatch"));
}

BOOST_AUTO_TEST_CASE(server_context_reports_missing_file)
{
    const key_pair pair(wildcard_names);
    const fs::path missing = pair.folder / "missing.pem";
    struct file_case {
        const char* label;
        context_options options;
        const fs::path& named;
    };
    const file_case cases[] = {
        {"certificate", {missing, pair.key}, missing},
        {"private key", {pair.certificate, missing}, missing},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const std::system_error failure = load_failure(c.options);
            BOOST_TEST_MESSAGE(failure.what());
            check_error(failure.code(),
                        std::errc::no_such_file_or_directory);
            BOOST_TEST(contains(failure.what(), c.named.string()));
            BOOST_TEST(contains(failure.what(), "No such file or directory"));
        }
    }
}

BOOST_AUTO_TEST_CASE(server_context_reports_file_without_pem)
{
    const key_pair pair(wildcard_names);
    const fs::path garbage = pair.folder / "garbage.pem";
    write_file(garbage, "not a PEM file\n");
    struct file_case {
        const char* label;
        context_options options;
        const char* reason;
    };
    const file_case cases[] = {
        {"certificate", {garbage, pair.key}, "PEM routines::no start line"},
        {"private key",
         {pair.certificate, garbage},
         "DECODER routines::unsupported"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const std::system_error failure = load_failure(c.options);
            BOOST_TEST_MESSAGE(failure.what());
            BOOST_TEST(failure.code().category().name()
                       == std::string("openssl"));
            BOOST_TEST(contains(failure.what(), garbage.string()));
            BOOST_TEST(contains(failure.what(), c.reason));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
