// The built-in user directory: accounts and their secrets in one SQLite
// database file.
#pragma once

#include <postern/core/base64.hpp>
#include <postern/core/error.hpp>
#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/password_hash.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/directory/user_options.hpp>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace postern::directory {

namespace detail {

/// The category of SQLite result codes, primary or extended.
class sqlite_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "sqlite"; }

    std::string message(int value) const override
    {
        return sqlite3_errstr(value);
    }
};

inline const std::error_category& sqlite_category() noexcept
{
    static const sqlite_category_impl instance;
    return instance;
}

inline std::error_code make_sqlite_error(int result) noexcept
{
    return {result, sqlite_category()};
}

/// Marks in the database header that identify a Postern user database:
/// PRAGMA application_id contains "PSTN" in ASCII, and PRAGMA user_version
/// the schema version.
inline constexpr std::int64_t sqlite_application_id = 0x5053544E;
inline constexpr std::int64_t sqlite_schema_version = 1;

// Secret schemes, named as Dovecot names its password schemes.
inline constexpr std::string_view scheme_crypt = "CRYPT";
inline constexpr std::string_view scheme_plain = "PLAIN";
inline constexpr std::string_view scheme_override_crypt =
    "POP3-OVERRIDE-CRYPT";
inline constexpr std::string_view scheme_override_plain =
    "POP3-OVERRIDE-PLAIN";
inline constexpr std::string_view scheme_cram_md5 = "CRAM-MD5";
inline constexpr std::string_view scheme_scram_sha1 = "SCRAM-SHA-1";
inline constexpr std::string_view scheme_scram_sha256 = "SCRAM-SHA-256";
inline constexpr std::string_view scheme_nt_hash = "NTLM";

/// Formats SCRAM keys as Dovecot's SCRAM schemes do:
/// ITERATIONS,SALT,STOREDKEY,SERVERKEY with base64 for the byte strings.
inline std::string format_scram(const scram_credentials& keys)
{
    return std::to_string(keys.iterations) + "," + base64_encode(keys.salt) +
           "," + base64_encode(keys.stored_key) + "," +
           base64_encode(keys.server_key);
}

inline std::optional<scram_credentials> parse_scram(std::string_view text)
{
    std::string_view fields[4];
    for (int i = 0; i < 3; ++i) {
        auto comma = text.find(',');
        if (comma == std::string_view::npos)
            return std::nullopt;
        fields[i] = text.substr(0, comma);
        text.remove_prefix(comma + 1);
    }
    fields[3] = text;

    scram_credentials keys;
    auto [end, ec] = std::from_chars(
        fields[0].data(), fields[0].data() + fields[0].size(),
        keys.iterations);
    if (ec != std::errc{} || end != fields[0].data() + fields[0].size())
        return std::nullopt;
    auto salt = base64_decode(fields[1]);
    auto stored = base64_decode(fields[2]);
    auto server = base64_decode(fields[3]);
    if (!salt || !stored || !server)
        return std::nullopt;
    keys.salt = std::move(*salt);
    keys.stored_key = std::move(*stored);
    keys.server_key = std::move(*server);
    return keys;
}

inline constexpr const char* sqlite_schema = R"sql(
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    scheme TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (user, scheme)
);
)sql";

struct sqlite_closer {
    void operator()(sqlite3* connection) const noexcept
    {
        sqlite3_close_v2(connection);
    }
};

/// A prepared statement, finalized on destruction.
class sqlite_statement {
public:
    sqlite_statement() = default;
    sqlite_statement(const sqlite_statement&) = delete;
    sqlite_statement& operator=(const sqlite_statement&) = delete;
    ~sqlite_statement() { sqlite3_finalize(handle_); }

    /// Compiles `sql`. @returns the SQLite result code.
    int prepare(sqlite3* connection, std::string_view sql)
    {
        sqlite3_finalize(handle_);
        handle_ = nullptr;
        return sqlite3_prepare_v3(connection, sql.data(),
                                  static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &handle_,
                                  nullptr);
    }

    sqlite3_stmt* get() const noexcept { return handle_; }

private:
    sqlite3_stmt* handle_ = nullptr;
};

/// One execution of a prepared statement. Parameters are bound without
/// copying (SQLITE_STATIC), so bound values must outlive the run. The
/// destructor resets the statement and clears its bindings.
class sqlite_run {
public:
    explicit sqlite_run(sqlite_statement& statement)
        : handle_(statement.get())
    {
    }
    sqlite_run(const sqlite_run&) = delete;
    sqlite_run& operator=(const sqlite_run&) = delete;

    ~sqlite_run()
    {
        sqlite3_reset(handle_);
        sqlite3_clear_bindings(handle_);
    }

    sqlite_run& bind_text(int index, std::string_view text)
    {
        record(sqlite3_bind_text(handle_, index, text.data(),
                                 static_cast<int>(text.size()),
                                 SQLITE_STATIC));
        return *this;
    }

    sqlite_run& bind_blob(int index, std::string_view bytes)
    {
        // A null pointer would bind SQL NULL, not an empty blob.
        if (bytes.empty())
            record(sqlite3_bind_zeroblob(handle_, index, 0));
        else
            record(sqlite3_bind_blob(handle_, index, bytes.data(),
                                     static_cast<int>(bytes.size()),
                                     SQLITE_STATIC));
        return *this;
    }

    sqlite_run& bind_int64(int index, std::int64_t value)
    {
        record(sqlite3_bind_int64(handle_, index, value));
        return *this;
    }

    /// Steps once. @returns SQLITE_ROW, SQLITE_DONE or the first error,
    /// including one from binding.
    int step()
    {
        if (status_ != SQLITE_OK)
            return status_;
        return sqlite3_step(handle_);
    }

    /// Reads a text or blob column of the current row as bytes.
    std::string_view column_bytes(int index) const
    {
        const void* data = sqlite3_column_blob(handle_, index);
        int size = sqlite3_column_bytes(handle_, index);
        if (data == nullptr)
            return {};
        return {static_cast<const char*>(data),
                static_cast<std::size_t>(size)};
    }

    bool column_is_null(int index) const
    {
        return sqlite3_column_type(handle_, index) == SQLITE_NULL;
    }

    std::int64_t column_int64(int index) const
    {
        return sqlite3_column_int64(handle_, index);
    }

private:
    void record(int result) noexcept
    {
        if (status_ == SQLITE_OK && result != SQLITE_OK)
            status_ = result;
    }

    sqlite3_stmt* handle_;
    int status_ = SQLITE_OK;
};

inline bool is_constraint_violation(int result) noexcept
{
    return (result & 0xff) == SQLITE_CONSTRAINT;
}

/// Creates the database file with mode 0600 unless it exists, so the
/// secrets are never readable by others, not even for a moment. SQLite
/// gives its -wal and -shm files the same mode as the database.
inline void create_private_file(const std::filesystem::path& path)
{
    std::error_code error;
    auto parent = path.parent_path();
    if (!parent.empty())
        std::filesystem::create_directories(parent, error);
    if (error)
        throw std::system_error(error, "cannot create the folder of user "
                                       "database " + path.string());

    int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (descriptor < 0)
        throw std::system_error(errno, std::generic_category(),
                                "cannot open user database " + path.string());
    ::close(descriptor);
}

} // namespace detail

/// A user directory in an SQLite database, the built-in directory of
/// postern-server. Each account is a row of `users`. Each stored secret is
/// a row of `secrets`, named by its scheme as Dovecot names them: CRYPT
/// (the crypt(3) verifier), PLAIN (only with keep_plaintext),
/// POP3-OVERRIDE-CRYPT and POP3-OVERRIDE-PLAIN.
///
/// One connection serves all calls under a mutex, so the class is
/// thread-safe. Password hashing runs outside the lock. Admin functions
/// return SQLite failures as error codes in detail::sqlite_category(),
/// and the lookup functions, which cannot return one, throw them as
/// std::system_error.
class sqlite_directory {
public:
    /// Opens the database at `path`, creating it (and its folder) with the
    /// schema if it does not exist.
    /// @throws std::system_error naming the path when the file cannot be
    /// opened or created, or is not a Postern user database of a supported
    /// schema version.
    explicit sqlite_directory(const std::filesystem::path& path)
        : path_(path)
    {
        detail::create_private_file(path_);
        open_connection();
        configure_connection();
        ensure_schema();
        prepare_statements();
    }

    sqlite_directory(const sqlite_directory&) = delete;
    sqlite_directory& operator=(const sqlite_directory&) = delete;

    /// Adds an account, storing its secrets in one transaction.
    /// @returns error::invalid_user_name, error::user_exists,
    /// std::errc::invalid_argument for a password that crypt(3) cannot
    /// take (see hash_password), or an SQLite error.
    std::error_code add_user(std::string_view name, const secret& password,
                             const user_options& options = {})
    {
        auto user = canonical_user_name(name);
        if (!user)
            return error::invalid_user_name;

        auto stored = detail::try_make_credentials(*user, password, options);
        if (!stored)
            return stored.error();
        return add_user(*stored);
    }

    /// Adds an account with credentials derived by the caller (for example
    /// with sasl::derive_secrets for the mechanisms a server offers).
    /// @returns error::invalid_user_name, error::user_exists or an SQLite
    /// error.
    std::error_code add_user(const credentials& stored)
    {
        auto user = canonical_user_name(stored.user);
        if (!user || *user != stored.user)
            return error::invalid_user_name;

        std::lock_guard lock(mutex_);
        transaction work(*this);
        if (int result = work.begin(); result != SQLITE_OK)
            return detail::make_sqlite_error(result);
        if (auto failure = insert_user(*user))
            return failure;
        if (auto failure = insert_secrets(stored))
            return failure;
        return work.commit();
    }

    /// Replaces every secret of an account, in one transaction, with ones
    /// derived from `password` and `options`.
    /// @returns error::user_not_found, or an error as add_user does.
    std::error_code set_password(std::string_view name,
                                 const secret& password,
                                 const user_options& options = {})
    {
        auto user = canonical_user_name(name);
        if (!user)
            return error::user_not_found;

        auto stored = detail::try_make_credentials(*user, password, options);
        if (!stored)
            return stored.error();
        return replace_credentials(*stored);
    }

    /// Replaces every secret of the account `stored.user` with `stored`.
    /// @returns error::user_not_found or an SQLite error.
    std::error_code replace_credentials(const credentials& stored)
    {
        auto user = canonical_user_name(stored.user);
        if (!user || *user != stored.user)
            return error::user_not_found;

        std::lock_guard lock(mutex_);
        transaction work(*this);
        if (int result = work.begin(); result != SQLITE_OK)
            return detail::make_sqlite_error(result);
        auto found = lookup_exists(*user);
        if (!found)
            return detail::make_sqlite_error(found.result);
        if (!found.value)
            return error::user_not_found;
        if (auto failure = delete_secrets(*user))
            return failure;
        if (auto failure = insert_secrets(stored))
            return failure;
        return work.commit();
    }

    /// Removes an account and, by the foreign key, all its secrets.
    /// @returns error::user_not_found or an SQLite error.
    std::error_code remove_user(std::string_view name)
    {
        auto user = canonical_user_name(name);
        if (!user)
            return error::user_not_found;

        std::lock_guard lock(mutex_);
        detail::sqlite_run run(delete_user_);
        run.bind_text(1, *user);
        if (int result = run.step(); result != SQLITE_DONE)
            return detail::make_sqlite_error(result);
        if (sqlite3_changes(connection_.get()) == 0)
            return error::user_not_found;
        return {};
    }

    /// Returns the names of all accounts in ascending order.
    /// @throws std::system_error when the query fails.
    std::vector<std::string> list_users() const
    {
        std::lock_guard lock(mutex_);
        std::vector<std::string> names;
        detail::sqlite_run run(list_users_);
        int result;
        while ((result = run.step()) == SQLITE_ROW)
            names.emplace_back(run.column_bytes(0));
        check_done(result);
        return names;
    }

    /// @throws std::system_error when the query fails.
    bool exists(std::string_view name)
    {
        auto user = canonical_user_name(name);
        if (!user)
            return false;

        std::lock_guard lock(mutex_);
        auto found = lookup_exists(*user);
        if (!found)
            throw_query_failure(found.result);
        return found.value;
    }

    /// @throws std::system_error when the query fails.
    std::optional<credentials> find_user(std::string_view name)
    {
        auto user = canonical_user_name(name);
        if (!user)
            return std::nullopt;

        std::lock_guard lock(mutex_);
        detail::sqlite_run run(select_secrets_);
        run.bind_text(1, *user);
        std::optional<credentials> found;
        int result;
        while ((result = run.step()) == SQLITE_ROW) {
            if (!found)
                found.emplace().user = *user;
            if (!run.column_is_null(0))
                apply_secret(*found, run.column_bytes(0),
                             run.column_bytes(1));
        }
        check_done(result);
        return found;
    }

    /// Checks `password` against the account's password verifier (not the
    /// POP3 override). An unknown or invalid name costs one hash all the
    /// same, so timing does not reveal which names exist.
    /// @throws std::system_error when the query fails.
    bool verify_password(std::string_view name, std::string_view password)
    {
        auto verifier = find_verifier(name);
        if (!verifier)
            return detail::verify_unknown_user(password);
        return verify_password_hash(*verifier, password);
    }

    bool supplies(secret_kind kind) const noexcept
    {
        return builtin_directory_supplies(kind);
    }

private:
    /// A lookup's result, or the SQLite error that prevented it.
    struct lookup {
        bool value = false;
        int result = SQLITE_OK;

        explicit operator bool() const noexcept
        {
            return result == SQLITE_OK;
        }
    };

    /// BEGIN IMMEDIATE to COMMIT, rolled back unless committed.
    class transaction {
    public:
        explicit transaction(sqlite_directory& directory)
            : directory_(directory)
        {
        }
        transaction(const transaction&) = delete;
        transaction& operator=(const transaction&) = delete;

        ~transaction()
        {
            if (open_)
                detail::sqlite_run(directory_.rollback_).step();
        }

        int begin()
        {
            int result = detail::sqlite_run(directory_.begin_).step();
            open_ = result == SQLITE_DONE;
            return open_ ? SQLITE_OK : result;
        }

        std::error_code commit()
        {
            int result = detail::sqlite_run(directory_.commit_).step();
            if (result != SQLITE_DONE)
                return detail::make_sqlite_error(result);
            open_ = false;
            return {};
        }

    private:
        sqlite_directory& directory_;
        bool open_ = false;
    };

    [[noreturn]] void throw_failure(int result,
                                    const std::string& context) const
    {
        throw std::system_error(detail::make_sqlite_error(result),
                                context + " " + path_.string());
    }

    [[noreturn]] void throw_query_failure(int result) const
    {
        throw_failure(result, "query failed on user database");
    }

    void check_done(int result) const
    {
        if (result != SQLITE_DONE)
            throw_query_failure(result);
    }

    void open_connection()
    {
        sqlite3* handle = nullptr;
        int result = sqlite3_open_v2(path_.c_str(), &handle,
                                     SQLITE_OPEN_READWRITE |
                                         SQLITE_OPEN_NOMUTEX,
                                     nullptr);
        connection_.reset(handle);
        if (result != SQLITE_OK)
            throw_failure(result, "cannot open user database");
        sqlite3_extended_result_codes(handle, 1);
    }

    void execute(const char* sql, const char* context)
    {
        int result =
            sqlite3_exec(connection_.get(), sql, nullptr, nullptr, nullptr);
        if (result == SQLITE_NOTADB)
            throw_failure(result, "not a Postern user database:");
        if (result != SQLITE_OK)
            throw_failure(result, context);
    }

    void configure_connection()
    {
        // A writer (user add) and the server may use the file at once: WAL
        // lets readers proceed during a write, and the busy timeout makes
        // a writer wait for the lock instead of failing at once.
        sqlite3_busy_timeout(connection_.get(), 5000);
        execute("PRAGMA journal_mode = WAL",
                "cannot enable WAL on user database");
        execute("PRAGMA foreign_keys = ON",
                "cannot enable foreign keys on user database");
        // Overwrite deleted rows, which may hold plaintext secrets.
        execute("PRAGMA secure_delete = ON",
                "cannot enable secure_delete on user database");
    }

    std::int64_t read_pragma(const char* sql)
    {
        detail::sqlite_statement statement;
        int result = statement.prepare(connection_.get(), sql);
        if (result != SQLITE_OK)
            throw_failure(result, "cannot read the schema of user database");
        detail::sqlite_run run(statement);
        result = run.step();
        if (result != SQLITE_ROW)
            throw_failure(result, "cannot read the schema of user database");
        return run.column_int64(0);
    }

    /// Creates the schema in an empty file, or checks the marks of an
    /// existing one. The check runs in a write transaction so that two
    /// processes creating the same file do not both create the schema.
    void ensure_schema()
    {
        execute("BEGIN IMMEDIATE", "cannot lock user database");
        try {
            check_or_create_schema();
        } catch (...) {
            sqlite3_exec(connection_.get(), "ROLLBACK", nullptr, nullptr,
                         nullptr);
            throw;
        }
        execute("COMMIT", "cannot create the schema of user database");
    }

    void check_or_create_schema()
    {
        auto application = read_pragma("PRAGMA application_id");
        auto version = read_pragma("PRAGMA user_version");
        auto objects = read_pragma("SELECT count(*) FROM sqlite_master");

        if (application == 0 && version == 0 && objects == 0) {
            create_schema();
            return;
        }
        if (application != detail::sqlite_application_id)
            throw std::system_error(
                std::make_error_code(std::errc::invalid_argument),
                "not a Postern user database: " + path_.string());
        if (version != detail::sqlite_schema_version)
            throw std::system_error(
                std::make_error_code(std::errc::invalid_argument),
                "user database " + path_.string() + " has schema version " +
                    std::to_string(version) + ", expected " +
                    std::to_string(detail::sqlite_schema_version));
    }

    void create_schema()
    {
        const char* context = "cannot create the schema of user database";
        execute(detail::sqlite_schema, context);
        auto marks = "PRAGMA application_id = " +
                     std::to_string(detail::sqlite_application_id) +
                     "; PRAGMA user_version = " +
                     std::to_string(detail::sqlite_schema_version);
        execute(marks.c_str(), context);
    }

    void prepare(detail::sqlite_statement& statement, std::string_view sql)
    {
        int result = statement.prepare(connection_.get(), sql);
        if (result != SQLITE_OK)
            throw_failure(result, "cannot prepare statements on user "
                                  "database");
    }

    void prepare_statements()
    {
        prepare(begin_, "BEGIN IMMEDIATE");
        prepare(commit_, "COMMIT");
        prepare(rollback_, "ROLLBACK");
        prepare(insert_user_,
                "INSERT INTO users (name, created) VALUES (?1, ?2)");
        prepare(insert_secret_, "INSERT INTO secrets (user, scheme, value) "
                                "VALUES (?1, ?2, ?3)");
        prepare(delete_secrets_, "DELETE FROM secrets WHERE user = ?1");
        prepare(delete_user_, "DELETE FROM users WHERE name = ?1");
        prepare(select_user_, "SELECT 1 FROM users WHERE name = ?1");
        // One row per secret, a single row of NULLs for an account that
        // has none, and no row for an unknown name.
        prepare(select_secrets_,
                "SELECT secrets.scheme, secrets.value FROM users "
                "LEFT JOIN secrets ON secrets.user = users.name "
                "WHERE users.name = ?1");
        prepare(select_secret_, "SELECT value FROM secrets "
                                "WHERE user = ?1 AND scheme = ?2");
        prepare(list_users_, "SELECT name FROM users ORDER BY name");
    }

    std::error_code insert_user(const std::string& user)
    {
        auto now = std::chrono::system_clock::now().time_since_epoch();
        auto created =
            std::chrono::duration_cast<std::chrono::seconds>(now).count();

        detail::sqlite_run run(insert_user_);
        run.bind_text(1, user).bind_int64(2, created);
        int result = run.step();
        if (result == SQLITE_DONE)
            return {};
        if (detail::is_constraint_violation(result))
            return error::user_exists;
        return detail::make_sqlite_error(result);
    }

    std::error_code insert_secret(const std::string& user,
                                  std::string_view scheme,
                                  std::string_view value)
    {
        detail::sqlite_run run(insert_secret_);
        run.bind_text(1, user).bind_text(2, scheme).bind_blob(3, value);
        int result = run.step();
        if (result != SQLITE_DONE)
            return detail::make_sqlite_error(result);
        return {};
    }

    std::error_code insert_secrets(const credentials& stored)
    {
        std::error_code failure;
        auto put = [&](std::string_view scheme, std::string_view value) {
            if (!failure)
                failure = insert_secret(stored.user, scheme, value);
        };
        if (stored.password_verifier)
            put(detail::scheme_crypt, *stored.password_verifier);
        if (stored.plaintext)
            put(detail::scheme_plain, stored.plaintext->view());
        if (stored.pop3_override_verifier)
            put(detail::scheme_override_crypt,
                *stored.pop3_override_verifier);
        if (stored.pop3_override_plaintext)
            put(detail::scheme_override_plain,
                stored.pop3_override_plaintext->view());
        if (stored.cram_md5)
            put(detail::scheme_cram_md5, *stored.cram_md5);
        if (stored.scram_sha1)
            put(detail::scheme_scram_sha1,
                detail::format_scram(*stored.scram_sha1));
        if (stored.scram_sha256)
            put(detail::scheme_scram_sha256,
                detail::format_scram(*stored.scram_sha256));
        if (stored.nt_hash)
            put(detail::scheme_nt_hash,
                std::string_view(
                    reinterpret_cast<const char*>(stored.nt_hash->data()),
                    stored.nt_hash->size()));
        return failure;
    }

    std::error_code delete_secrets(const std::string& user)
    {
        detail::sqlite_run run(delete_secrets_);
        run.bind_text(1, user);
        int result = run.step();
        if (result != SQLITE_DONE)
            return detail::make_sqlite_error(result);
        return {};
    }

    lookup lookup_exists(const std::string& user)
    {
        detail::sqlite_run run(select_user_);
        run.bind_text(1, user);
        int result = run.step();
        if (result == SQLITE_ROW)
            return {true, SQLITE_OK};
        if (result == SQLITE_DONE)
            return {false, SQLITE_OK};
        return {false, result};
    }

    std::optional<std::string> find_verifier(std::string_view name)
    {
        auto user = canonical_user_name(name);
        if (!user)
            return std::nullopt;

        std::lock_guard lock(mutex_);
        detail::sqlite_run run(select_secret_);
        run.bind_text(1, *user).bind_text(2, detail::scheme_crypt);
        int result = run.step();
        if (result == SQLITE_ROW)
            return std::string(run.column_bytes(0));
        check_done(result);
        return std::nullopt;
    }

    /// Sets the field of `found` that a stored secret fills. Schemes this
    /// version does not know are skipped, so a newer writer's rows do not
    /// break lookups.
    static std::optional<std::array<std::uint8_t, 16>>
    to_nt_hash(std::string_view value)
    {
        if (value.size() != 16)
            return std::nullopt;
        std::array<std::uint8_t, 16> hash{};
        std::memcpy(hash.data(), value.data(), hash.size());
        return hash;
    }

    static void apply_secret(credentials& found, std::string_view scheme,
                             std::string_view value)
    {
        if (scheme == detail::scheme_crypt)
            found.password_verifier = std::string(value);
        else if (scheme == detail::scheme_plain)
            found.plaintext = secret(value);
        else if (scheme == detail::scheme_override_crypt)
            found.pop3_override_verifier = std::string(value);
        else if (scheme == detail::scheme_override_plain)
            found.pop3_override_plaintext = secret(value);
        else if (scheme == detail::scheme_cram_md5)
            found.cram_md5 = std::string(value);
        else if (scheme == detail::scheme_scram_sha1)
            found.scram_sha1 = detail::parse_scram(value);
        else if (scheme == detail::scheme_scram_sha256)
            found.scram_sha256 = detail::parse_scram(value);
        else if (scheme == detail::scheme_nt_hash)
            found.nt_hash = to_nt_hash(value);
    }

    std::filesystem::path path_;
    mutable std::mutex mutex_;
    // Declared before the statements, so it is closed after they are
    // finalized.
    std::unique_ptr<sqlite3, detail::sqlite_closer> connection_;
    detail::sqlite_statement begin_;
    detail::sqlite_statement commit_;
    detail::sqlite_statement rollback_;
    detail::sqlite_statement insert_user_;
    detail::sqlite_statement insert_secret_;
    detail::sqlite_statement delete_secrets_;
    detail::sqlite_statement delete_user_;
    detail::sqlite_statement select_user_;
    detail::sqlite_statement select_secrets_;
    detail::sqlite_statement select_secret_;
    mutable detail::sqlite_statement list_users_;
};

static_assert(user_directory<sqlite_directory>);

} // namespace postern::directory
