// A tailored SMTP submission server that offers only SCRAM-SHA-256
// (RFC 7677) after STARTTLS. The mechanism set names one mechanism, so the
// binary contains no code of the others: no PLAIN, LOGIN, CRAM-MD5 or
// NTLM, and the server stores SCRAM keys, never the password.
//
// Usage: scram_submission DATA_DIR PORT USER PASSWORD
// The certificate is generated in DATA_DIR/tls on first start.

#include <postern/core/io_pool.hpp>
#include <postern/directory/memory.hpp>
#include <postern/sasl/derive.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/scram.hpp>
#include <postern/smtp/server.hpp>
#include <postern/store/maildir.hpp>
#include <postern/tls/certificate.hpp>
#include <postern/tls/context.hpp>
#include <postern/trust/rules.hpp>

#include <asio/signal_set.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace {

using mechanisms =
    postern::sasl::mechanism_set<postern::sasl::scram_sha256>;

using submission_server =
    postern::smtp::server<postern::directory::memory_directory, mechanisms,
                          postern::trust::rules,
                          postern::store::maildir_store>;

postern::smtp::settings make_settings()
{
    postern::smtp::settings config;
    config.identity = "localhost";
    config.local_domains = {"localhost"};
    config.auth.set("SCRAM-SHA-256", postern::sasl::availability::tls);
    return config;
}

// The account keeps only what SCRAM-SHA-256 needs: salt, iteration count,
// StoredKey and ServerKey.
bool add_account(postern::directory::memory_directory& users,
                 const std::string& name, const std::string& password)
{
    postern::directory::credentials account;
    account.user = name;
    auto failure = postern::sasl::derive_secrets<mechanisms>(
        password, {}, account);
    if (failure) {
        std::cerr << "cannot derive the SCRAM keys: " << failure.message()
                  << '\n';
        return false;
    }
    return !users.add_user(std::move(account));
}

void print_event(const postern::event& e)
{
    std::clog << e.session << ' ' << e.client << ' ' << e.name;
    for (const auto& [key, value] : e.fields)
        std::clog << ' ' << key << '=' << value;
    std::clog << '\n';
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5) {
        std::cerr << "usage: scram_submission DATA_DIR PORT USER PASSWORD\n";
        return 1;
    }
    std::filesystem::path data = argv[1];
    auto port = static_cast<unsigned short>(std::atoi(argv[2]));

    auto cert = data / "tls" / "cert.pem";
    auto key = data / "tls" / "key.pem";
    auto ec = postern::tls::ensure_certificate({{"localhost"}}, cert, key);
    if (ec) {
        std::cerr << "cannot create the certificate: " << ec.message() << '\n';
        return 2;
    }
    auto tls = postern::tls::make_server_context({cert, key});

    postern::directory::memory_directory users;
    if (!add_account(users, argv[3], argv[4]))
        return 1;
    postern::trust::rules trust;
    postern::store::maildir_store store(data / "mail", data / "queue",
                                        "localhost");

    postern::io_pool pool(1);
    asio::thread_pool workers(2);
    submission_server server(pool, workers, users, trust, store,
                             make_settings(), print_event, &tls);
    server.listen({.name = "submission",
                   .endpoint = {asio::ip::make_address("127.0.0.1"), port},
                   .tls = postern::tls_mode::starttls,
                   .auth_required = true});

    asio::signal_set signals(pool.main(), SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) {
        server.stop();
        pool.release();
    });
    pool.run();
    return 0;
}
