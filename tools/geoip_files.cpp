// GeoIpFiles: geo::Databases::open over the configured paths, and a stat()
// signature per file to notice a new download (geoipupdate renames a new file in).
#include "tools/geoip_files.hpp"

namespace signpost::tools {

GeoIpFiles::Seen GeoIpFiles::look(const std::string& path) {
    Seen s;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return s;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime = st.st_mtim;
    return s;
}

bool GeoIpFiles::load(const std::vector<std::string>& paths, std::string& error) {
    // The signature before opening: a file replaced while we read it looks changed next time.
    std::vector<Seen> seen;
    for (auto& p : paths) seen.push_back(look(p));
    paths_ = paths;
    seen_ = std::move(seen);  // a broken file is not retried until it changes again
    if (paths.empty()) {
        dbs_.reset();
        return true;
    }
    auto dbs = geo::Databases::open(paths, error);
    if (!dbs) return false;
    dbs_ = std::move(dbs);
    return true;
}

bool GeoIpFiles::changed() const {
    for (std::size_t i = 0; i < paths_.size() && i < seen_.size(); ++i) {
        Seen now = look(paths_[i]);
        const Seen& was = seen_[i];
        if (now.dev != was.dev || now.ino != was.ino || now.size != was.size || now.mtime.tv_sec != was.mtime.tv_sec ||
            now.mtime.tv_nsec != was.mtime.tv_nsec)
            return true;
    }
    return false;
}

}  // namespace signpost::tools
