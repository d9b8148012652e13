#include "media/wav/wav_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "media/wav/wav_reader.h"

namespace verbatim::media::wav {
namespace {

constexpr uint64_t kMaxDataBytes = 0xFFFFFFFFull - (kHeaderSize - 8);  // RIFF size is 32 bits

void PutLe16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v & 0xFF);
  p[1] = std::byte(v >> 8);
}
void PutLe32(std::byte* p, uint32_t v) {
  PutLe16(p, static_cast<uint16_t>(v & 0xFFFF));
  PutLe16(p + 2, static_cast<uint16_t>(v >> 16));
}

Status Errno(const std::string& what, const std::filesystem::path& p) {
  return Status::Internal(what + " " + p.string() + ": " + std::strerror(errno));
}

Status WriteAll(int fd, const std::byte* data, size_t n, const std::filesystem::path& p) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("write", p);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status PwriteAll(int fd, const std::byte* data, size_t n, off_t off, const std::filesystem::path& p) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("pwrite", p);
    }
    data += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return Status::Ok();
}

// Makes a rename durable (power loss); a no-op for kill -9 safety.
void SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::filesystem::path PartOf(const std::filesystem::path& p) { return std::filesystem::path(p.string() + kPartSuffix); }

}  // namespace

std::array<std::byte, kHeaderSize> BuildHeader(uint16_t channels, uint32_t rate, uint32_t data_bytes) {
  std::array<std::byte, kHeaderSize> h{};
  const uint16_t block_align = static_cast<uint16_t>(channels * 2);
  std::memcpy(h.data(), "RIFF", 4);
  PutLe32(h.data() + 4, static_cast<uint32_t>(std::min<uint64_t>(uint64_t{data_bytes} + 36, 0xFFFFFFFFull)));
  std::memcpy(h.data() + 8, "WAVEfmt ", 8);
  PutLe32(h.data() + 16, 16);
  PutLe16(h.data() + 20, 1);  // PCM
  PutLe16(h.data() + 22, channels);
  PutLe32(h.data() + 24, rate);
  PutLe32(h.data() + 28, rate * block_align);
  PutLe16(h.data() + 32, block_align);
  PutLe16(h.data() + 34, 16);
  std::memcpy(h.data() + 36, "data", 4);
  PutLe32(h.data() + 40, data_bytes);
  return h;
}

Result<std::unique_ptr<WavWriter>> WavWriter::Create(std::filesystem::path path, uint16_t channels,
                                                     uint32_t rate, WriterOptions options) {
  if (channels == 0 || channels > 64) return Status::InvalidArgument("wav.bad.channels", "1..64 channels");
  if (rate == 0 || rate > 768000) return Status::InvalidArgument("wav.bad.sample.rate", "1..768000 Hz");
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Status::AlreadyExists("wav.exists", path.string() + " exists");
  const std::filesystem::path part = PartOf(path);
  // O_EXCL: an existing .part is a crashed recording that recovery has not seen yet.
  // 0600: recordings are personal data, for this user only (docs/secrets-at-rest.md).
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::AlreadyExists("wav.exists", part.string() + " exists");
    return Errno("open", part);
  }
  const auto header = BuildHeader(channels, rate, 0);
  if (Status s = WriteAll(fd, header.data(), header.size(), part); !s.ok()) {
    ::close(fd);
    ::unlink(part.c_str());
    return s;
  }
  return std::unique_ptr<WavWriter>(new WavWriter(std::move(path), fd, channels, rate, options));
}

WavWriter::WavWriter(std::filesystem::path path, int fd, uint16_t channels, uint32_t rate, WriterOptions options)
    : path_(std::move(path)),
      part_path_(PartOf(path_)),
      channels_(channels),
      sample_rate_(rate),
      options_(options),
      checkpoint_frames_(std::max<uint64_t>(1, static_cast<uint64_t>(options.checkpoint_interval.count()) * rate / 1000)),
      sync_frames_(options.sync_interval.count() > 0
                       ? std::max<uint64_t>(1, static_cast<uint64_t>(options.sync_interval.count()) * rate / 1000)
                       : 0),
      fd_(fd) {
  buffer_.reserve(options_.buffer_bytes);
}

WavWriter::~WavWriter() {
  if (fd_ >= 0) (void)Close();
}

Status WavWriter::FlushBuffer() {
  if (buffer_.empty()) return Status::Ok();
  Status s = WriteAll(fd_, buffer_.data(), buffer_.size(), part_path_);
  buffer_.clear();
  return s;
}

Status WavWriter::Write(std::span<const int16_t> samples) {
  if (!failed_.ok()) return failed_;
  if (fd_ < 0) return Status::FailedPrecondition("wav.closed", "writer is closed");
  if (samples.size() % channels_ != 0) return Status::InvalidArgument("wav.partial.frame", "not whole frames");
  const uint64_t frames = samples.size() / channels_;
  if ((frames_ + frames) * channels_ * 2 > kMaxDataBytes) {
    return Status::ResourceExhausted("wav.too.large", "WAV data would exceed 4 GiB");
  }
  // Feed the buffer in pieces that end at checkpoint boundaries and fit the
  // buffer, so a long Write still checkpoints on time and memory stays bounded.
  const uint64_t buffer_frames = std::max<uint64_t>(1, options_.buffer_bytes / (2u * channels_));
  while (!samples.empty()) {
    uint64_t buffered = buffer_.size() / (2u * channels_);
    if (buffered >= buffer_frames) {
      failed_ = FlushBuffer();
      if (!failed_.ok()) return failed_;
      buffered = 0;
    }
    const uint64_t until_checkpoint = checkpoint_frames_ - (frames_ - checkpointed_frames_);
    const uint64_t n = std::min({until_checkpoint, buffer_frames - buffered, uint64_t{samples.size() / channels_}});
    const size_t count = static_cast<size_t>(n) * channels_;
    buffer_.resize(buffer_.size() + count * 2);
    std::byte* out = buffer_.data() + buffer_.size() - count * 2;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(out, samples.data(), count * 2);
    } else {
      for (size_t i = 0; i < count; ++i) PutLe16(out + 2 * i, static_cast<uint16_t>(samples[i]));
    }
    frames_ += n;
    samples = samples.subspan(count);
    failed_ = MaybeCheckpoint();
    if (!failed_.ok()) return failed_;
  }
  return Status::Ok();
}

Status WavWriter::WriteSilence(uint64_t frames) {
  static const std::vector<int16_t> kZeros(4096, 0);
  const uint64_t chunk = kZeros.size() / channels_;
  while (frames > 0) {
    const uint64_t n = std::min(frames, chunk);
    VERBATIM_RETURN_IF_ERROR(Write(std::span(kZeros).first(static_cast<size_t>(n * channels_))));
    frames -= n;
  }
  return Status::Ok();
}

Status WavWriter::MaybeCheckpoint() {
  if (frames_ - checkpointed_frames_ >= checkpoint_frames_) return Checkpoint();
  return Status::Ok();
}

Status WavWriter::Checkpoint() {
  if (!failed_.ok()) return failed_;
  if (fd_ < 0) return Status::FailedPrecondition("wav.closed", "writer is closed");
  // Data first, then the header that claims it: the header never runs ahead.
  failed_ = FlushBuffer();
  if (!failed_.ok()) return failed_;
  const auto header = BuildHeader(channels_, sample_rate_, static_cast<uint32_t>(frames_ * channels_ * 2));
  failed_ = PwriteAll(fd_, header.data(), header.size(), 0, part_path_);
  if (!failed_.ok()) return failed_;
  checkpointed_frames_ = frames_;
  ++checkpoints_;
  if (sync_frames_ != 0 && frames_ - synced_frames_ >= sync_frames_) {
    if (::fdatasync(fd_) != 0) return failed_ = Errno("fdatasync", part_path_);
    synced_frames_ = frames_;
  }
  return Status::Ok();
}

Status WavWriter::Close() {
  if (fd_ < 0) return failed_.ok() ? Status::Ok() : failed_;
  Status s = Checkpoint();
  if (s.ok() && options_.sync_on_close && ::fdatasync(fd_) != 0) s = Errno("fdatasync", part_path_);
  ::close(fd_);
  fd_ = -1;
  if (!s.ok()) return failed_ = s;  // the .part stays for RecoverPartials
  if (::rename(part_path_.c_str(), path_.c_str()) != 0) return failed_ = Errno("rename", part_path_);
  if (options_.sync_on_close) SyncDirectory(path_.parent_path());
  return Status::Ok();
}

Result<std::vector<Recovered>> RecoverPartials(const std::filesystem::path& dir) {
  std::vector<Recovered> out;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  if (ec) return Status::NotFound("wav.recover.dir", dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> parts;
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::Internal("scan " + dir.string() + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.size() > 9 && name.ends_with(".wav.part")) parts.push_back(it->path());
  }
  std::sort(parts.begin(), parts.end());  // deterministic order for callers and tests

  for (const auto& part : parts) {
    Recovered r;
    r.part = part;
    r.path = part;
    r.path.replace_extension();  // drop ".part"
    const int fd = ::open(part.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      r.status = Errno("open", part);
      out.push_back(std::move(r));
      continue;
    }
    r.status = [&]() -> Status {
      struct stat st {};
      if (::fstat(fd, &st) != 0) return Errno("fstat", part);
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      std::vector<std::byte> head(static_cast<size_t>(std::min<uint64_t>(size, 64 * 1024)));
      if (::pread(fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size())) return Errno("pread", part);
      ReadLimits limits;
      limits.recover = true;
      Result<WavInfo> info = ParseWav(head, size, limits);
      if (!info.ok()) return info.status();
      uint64_t data = std::min(info->data_size, kMaxDataBytes / info->block_align * info->block_align);
      r.frames = data / info->block_align;
      r.truncated_bytes = size - info->data_offset - data;
      if (r.truncated_bytes > 0 && ::ftruncate(fd, static_cast<off_t>(info->data_offset + data)) != 0) {
        return Errno("ftruncate", part);
      }
      std::byte le[4];
      PutLe32(le, static_cast<uint32_t>(info->data_offset - 8 + data));
      VERBATIM_RETURN_IF_ERROR(PwriteAll(fd, le, 4, 4, part));
      PutLe32(le, static_cast<uint32_t>(data));
      VERBATIM_RETURN_IF_ERROR(PwriteAll(fd, le, 4, static_cast<off_t>(info->data_offset - 4), part));
      if (::fdatasync(fd) != 0) return Errno("fdatasync", part);
      if (std::filesystem::exists(r.path, ec)) return Status::AlreadyExists("wav.exists", r.path.string() + " exists");
      if (::rename(part.c_str(), r.path.c_str()) != 0) return Errno("rename", part);
      SyncDirectory(part.parent_path());
      return Status::Ok();
    }();
    ::close(fd);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace verbatim::media::wav
