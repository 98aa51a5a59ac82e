// The server config's geoip_databases as the daemon holds them: opened at start,
// opened again on SIGHUP or when a file changes (checked on the tick). Wiring only:
// reading is geo/'s, the choice per query policy/'s.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "geo/database.hpp"

namespace signpost::tools {

class GeoIpFiles {
public:
    // Opens every file of `paths`. On success the new databases replace the old
    // ones; on failure `error` names the file and the old ones stay (null at start).
    bool load(const std::vector<std::string>& paths, std::string& error);
    // True when a file's size, inode or modification time differs from what the
    // last load() saw (one stat() per file; call at most once a second).
    bool changed() const;

    const std::shared_ptr<const geo::Databases>& databases() const noexcept { return dbs_; }
    const std::vector<std::string>& paths() const noexcept { return paths_; }

private:
    struct Seen {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        struct timespec mtime {};
    };
    static Seen look(const std::string& path);
    std::shared_ptr<const geo::Databases> dbs_;
    std::vector<std::string> paths_;
    std::vector<Seen> seen_;
};

}  // namespace signpost::tools
