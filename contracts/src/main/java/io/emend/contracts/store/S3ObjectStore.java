package io.emend.contracts.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An {@link ObjectStore} in one bucket of any S3-compatible service (AWS S3, MinIO, S3Proxy). Keys are used as S3
 * keys unchanged.
 *
 * <p>A put reads the stream in parts of {@link #PART_BYTES}, hashing on the way. An object that fits in one part is
 * sent with a single PutObject once its digest has been checked; a larger one goes through a multipart upload whose
 * parts are invisible until CompleteMultipartUpload, which is only sent when the digest matches (otherwise, and on any
 * failure, the upload is aborted). Either way a reader sees the old object or the whole new one. At most
 * {@link #MAX_PARTS} parts are allowed, so one object holds up to 80 GiB.
 *
 * <p>Checksums are only computed where S3 requires them ({@code WHEN_REQUIRED}): the SDK's default trailing
 * checksums are not understood by every S3-compatible server, and the SHA-256 computed here is the integrity check
 * that matters.
 */
public final class S3ObjectStore implements ObjectStore {

    /** Bytes buffered per part; S3 needs at least 5 MiB for every part but the last. */
    public static final int PART_BYTES = 8 * 1024 * 1024;

    /** S3's limit on the parts of one multipart upload. */
    public static final int MAX_PARTS = 10_000;

    /**
     * Where the store is and how to reach it.
     *
     * @param bucket the bucket holding every object of this store
     * @param endpoint the service's URL, e.g. {@code http://127.0.0.1:9000}; empty for AWS S3 itself
     * @param region the signing region ({@code us-east-1} for most S3-compatible servers)
     * @param credentials an access key pair; empty uses the SDK's default chain (environment, profile, instance role)
     * @param pathStyle whether the bucket goes into the path ({@code endpoint/bucket/key}) rather than the host name;
     *     S3-compatible servers on a plain host and port need it
     * @param createBucket whether {@link #open} creates the bucket when it does not exist
     * @param listPageSize keys per ListObjectsV2 request (1 to 1000)
     */
    public record Config(
            String bucket,
            Optional<URI> endpoint,
            String region,
            Optional<Credentials> credentials,
            boolean pathStyle,
            boolean createBucket,
            int listPageSize) {

        /** A static access key pair. */
        public record Credentials(String accessKeyId, String secretAccessKey) {
            public Credentials {
                if (accessKeyId == null || accessKeyId.isBlank()) {
                    throw new IllegalArgumentException("S3 accessKeyId must not be blank");
                }
                if (secretAccessKey == null || secretAccessKey.isBlank()) {
                    throw new IllegalArgumentException("S3 secretAccessKey must not be blank");
                }
            }

            @Override
            public String toString() {
                return "Credentials[accessKeyId=" + accessKeyId + ", secretAccessKey=***]";
            }
        }

        public Config {
            if (bucket == null || !bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
                throw new IllegalArgumentException("S3 bucket name must be 3 to 63 lowercase letters, digits, '.' or"
                        + " '-', starting and ending with a letter or digit: " + bucket);
            }
            Objects.requireNonNull(endpoint, "endpoint");
            endpoint.ifPresent(uri -> {
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                    throw new IllegalArgumentException("S3 endpoint must be an http or https URL: " + uri);
                }
            });
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("S3 region must not be blank (us-east-1 suits most S3-compatible"
                        + " servers)");
            }
            Objects.requireNonNull(credentials, "credentials");
            if (listPageSize < 1 || listPageSize > 1000) {
                throw new IllegalArgumentException("S3 listPageSize must be between 1 and 1000, was " + listPageSize);
            }
        }

        /** An S3-compatible server (MinIO, S3Proxy) at {@code endpoint}: path-style, static keys, bucket created. */
        public static Config compatible(URI endpoint, String bucket, String accessKeyId, String secretAccessKey) {
            return new Config(bucket, Optional.of(endpoint), "us-east-1",
                    Optional.of(new Credentials(accessKeyId, secretAccessKey)), true, true, 1000);
        }

        /** AWS S3 itself: virtual-hosted addressing, the SDK's default credentials, the bucket must exist. */
        public static Config aws(String bucket, String region) {
            return new Config(bucket, Optional.empty(), region, Optional.empty(), false, false, 1000);
        }

        public Config withListPageSize(int newListPageSize) {
            return new Config(bucket, endpoint, region, credentials, pathStyle, createBucket, newListPageSize);
        }

        public Config withCreateBucket(boolean newCreateBucket) {
            return new Config(bucket, endpoint, region, credentials, pathStyle, newCreateBucket, listPageSize);
        }
    }

    private final S3Client s3;
    private final Config config;

    private S3ObjectStore(S3Client s3, Config config) {
        this.s3 = s3;
        this.config = config;
    }

    /**
     * Connects and checks that the bucket is there (creating it when {@link Config#createBucket()} says so).
     *
     * @throws IOException when the service cannot be reached, refuses the credentials, or the bucket is missing
     */
    public static S3ObjectStore open(Config config) throws IOException {
        var builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .region(Region.of(config.region()))
                .forcePathStyle(config.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(credentialsProvider(config));
        config.endpoint().ifPresent(builder::endpointOverride);
        S3Client s3 = builder.build();
        try {
            ensureBucket(s3, config);
        } catch (IOException | RuntimeException e) {
            s3.close();
            throw e;
        }
        return new S3ObjectStore(s3, config);
    }

    public Config config() {
        return config;
    }

    @Override
    public StoredObject put(String key, InputStream data, Optional<String> expectedSha256) throws IOException {
        ObjectKeys.validate(key);
        Objects.requireNonNull(data, "data");
        Optional<String> expected = expectedSha256.map(ObjectKeys::sha256);
        MessageDigest sha = FilesystemObjectStore.sha256();
        byte[] part = new byte[PART_BYTES];
        int filled = fill(data, part);
        sha.update(part, 0, filled);
        if (filled < PART_BYTES) {
            String actual = HexFormat.of().formatHex(sha.digest());
            checkDigest(key, expected, actual);
            SdkHttpResponse response = call(key, () -> s3.putObject(b -> b.bucket(config.bucket()).key(key),
                    body(part, filled))).sdkHttpResponse();
            return new StoredObject(key, filled, Optional.of(actual), serverTime(response));
        }
        return putMultipart(key, data, expected, sha, part);
    }

    private StoredObject putMultipart(String key, InputStream data, Optional<String> expected, MessageDigest sha,
            byte[] part) throws IOException {
        String uploadId = call(key, () -> s3.createMultipartUpload(b -> b.bucket(config.bucket()).key(key)))
                .uploadId();
        boolean completed = false;
        try {
            List<CompletedPart> parts = new ArrayList<>();
            long size = 0;
            int filled = part.length;
            // The first part arrives full (put read it); later parts are read here. A short read means the end.
            while (filled > 0) {
                if (parts.size() == MAX_PARTS) {
                    throw new IOException("cannot store " + key + ": larger than " + MAX_PARTS + " parts of "
                            + PART_BYTES + " bytes");
                }
                int number = parts.size() + 1;
                int length = filled;
                String etag = call(key, () -> s3.uploadPart(b -> b.bucket(config.bucket()).key(key)
                        .uploadId(uploadId).partNumber(number), body(part, length))).eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
                size += length;
                if (length < part.length) {
                    break;
                }
                filled = fill(data, part);
                sha.update(part, 0, filled);
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            checkDigest(key, expected, actual);
            SdkHttpResponse response = call(key, () -> s3.completeMultipartUpload(b -> b.bucket(config.bucket())
                    .key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)))).sdkHttpResponse();
            completed = true;
            return new StoredObject(key, size, Optional.of(actual), serverTime(response));
        } finally {
            if (!completed) {
                abort(key, uploadId);
            }
        }
    }

    @Override
    public Optional<StoredObject> stat(String key) throws IOException {
        ObjectKeys.validate(key);
        try {
            HeadObjectResponse head = s3.headObject(b -> b.bucket(config.bucket()).key(key));
            return Optional.of(new StoredObject(key, head.contentLength(), Optional.empty(), head.lastModified()));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure(key, e);
        } catch (SdkException e) {
            throw failure(key, e);
        }
    }

    @Override
    public InputStream get(String key) throws IOException {
        ObjectKeys.validate(key);
        return open(key, Optional.empty());
    }

    @Override
    public InputStream get(String key, long offset, long length) throws IOException {
        ObjectKeys.validate(key);
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("range of " + key + " must not be negative: offset " + offset
                    + ", length " + length);
        }
        if (length == 0) {
            // HTTP cannot ask for zero bytes; the object must still exist.
            if (stat(key).isEmpty()) {
                throw new ObjectNotFoundException(key);
            }
            return InputStream.nullInputStream();
        }
        long last = offset + length - 1;
        String range = last < offset ? "bytes=" + offset + "-" : "bytes=" + offset + "-" + last;
        return open(key, Optional.of(range));
    }

    private InputStream open(String key, Optional<String> range) throws IOException {
        try {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(config.bucket()).key(key)
                    .range(range.orElse(null)), ResponseTransformer.toInputStream());
            return in;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw new ObjectNotFoundException(key);
            }
            if (e.statusCode() == 416) {
                return InputStream.nullInputStream(); // the range starts at or past the end: nothing to read
            }
            throw failure(key, e);
        } catch (SdkException e) {
            throw failure(key, e);
        }
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        ObjectKeys.validatePrefix(prefix);
        List<StoredObject> found = new ArrayList<>();
        try {
            for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(config.bucket()).prefix(prefix)
                    .maxKeys(config.listPageSize())).contents()) {
                // Keys other tools wrote that this API could never read (folder markers such as "a/") are skipped.
                if (ObjectKeys.isValid(object.key())) {
                    found.add(new StoredObject(object.key(), object.size(), Optional.empty(), object.lastModified()));
                }
            }
        } catch (SdkException e) {
            throw failure(prefix + "*", e);
        }
        // S3 already lists in UTF-8 byte order; some compatible servers do not, so the order is made sure of here.
        found.sort((a, b) -> ObjectKeys.ORDER.compare(a.key(), b.key()));
        return List.copyOf(found);
    }

    @Override
    public void delete(String key) throws IOException {
        ObjectKeys.validate(key);
        call(key, () -> s3.deleteObject(b -> b.bucket(config.bucket()).key(key)));
    }

    @Override
    public void close() {
        s3.close();
    }

    @Override
    public String toString() {
        return "S3ObjectStore[" + config.endpoint().map(URI::toString).orElse("aws") + "/" + config.bucket() + "]";
    }

    private static AwsCredentialsProvider credentialsProvider(Config config) {
        return config.credentials()
                .<AwsCredentialsProvider>map(c -> StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey())))
                .orElseGet(() -> DefaultCredentialsProvider.builder().build());
    }

    private static void ensureBucket(S3Client s3, Config config) throws IOException {
        String where = config.endpoint().map(URI::toString).orElse("AWS S3 (" + config.region() + ")");
        try {
            s3.headBucket(b -> b.bucket(config.bucket()));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw new IOException("cannot use S3 bucket " + config.bucket() + " at " + where + ": HTTP "
                        + e.statusCode() + " " + errorCode(e), e);
            }
            if (!config.createBucket()) {
                throw new IOException("S3 bucket " + config.bucket() + " does not exist at " + where, e);
            }
            try {
                s3.createBucket(b -> b.bucket(config.bucket()));
            } catch (S3Exception created) {
                // A concurrent opener may have created it first; that is what we wanted.
                if (created.statusCode() != 409) {
                    throw new IOException("cannot create S3 bucket " + config.bucket() + " at " + where + ": HTTP "
                            + created.statusCode() + " " + errorCode(created), created);
                }
            } catch (SdkException created) {
                throw new IOException("cannot create S3 bucket " + config.bucket() + " at " + where + ": "
                        + created.getMessage(), created);
            }
        } catch (SdkException e) {
            throw new IOException("cannot reach S3 at " + where + ": " + e.getMessage(), e);
        }
    }

    private void abort(String key, String uploadId) {
        try {
            s3.abortMultipartUpload(b -> b.bucket(config.bucket()).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            // The put is failing already and its exception is what the caller needs; the parts of an upload that
            // was never completed are invisible to readers, and a bucket lifecycle rule reclaims them.
        }
    }

    private static void checkDigest(String key, Optional<String> expected, String actual)
            throws DigestMismatchException {
        if (expected.isPresent() && !expected.get().equals(actual)) {
            throw new DigestMismatchException(key, expected.get(), actual);
        }
    }

    /** Reads until {@code buffer} is full or the stream ends; returns how many bytes arrived. */
    private static int fill(InputStream data, byte[] buffer) throws IOException {
        int filled = 0;
        while (filled < buffer.length) {
            int n = data.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                break;
            }
            filled += n;
        }
        return filled;
    }

    /** The buffer itself, not a copy: the SDK may read it twice (payload signing, then sending). */
    private static RequestBody body(byte[] buffer, int length) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buffer, 0, length), length,
                "application/octet-stream");
    }

    /** When the server answered, from its Date header: S3 does not return Last-Modified on writes. */
    private static Instant serverTime(SdkHttpResponse response) {
        return response.firstMatchingHeader("Date").flatMap(date -> {
            try {
                return Optional.of(ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }).orElseGet(Instant::now);
    }

    private <T> T call(String key, SdkCall<T> request) throws IOException {
        try {
            return request.run();
        } catch (SdkException e) {
            throw failure(key, e);
        }
    }

    private IOException failure(String key, SdkException e) {
        if (e.getCause() instanceof IOException io && !(e instanceof S3Exception)) {
            return new IOException("S3 request for " + key + " in bucket " + config.bucket() + " failed: "
                    + io.getMessage(), io);
        }
        String detail = e instanceof S3Exception s3e
                ? "HTTP " + s3e.statusCode() + " " + errorCode(s3e)
                : e.getMessage();
        return new IOException("S3 request for " + key + " in bucket " + config.bucket() + " failed: " + detail, e);
    }

    private static String errorCode(S3Exception e) {
        return e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null
                ? e.awsErrorDetails().errorCode()
                : "";
    }

    @FunctionalInterface
    private interface SdkCall<T> {
        T run();
    }
}
