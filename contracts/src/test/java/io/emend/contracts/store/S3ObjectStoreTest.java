package io.emend.contracts.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The contract against S3Proxy running in this JVM on loopback, over a jclouds filesystem blob store. */
class S3ObjectStoreTest extends ObjectStoreContract {

    private static final String ACCESS_KEY = "emend-test";
    private static final String SECRET_KEY = "emend-test-secret";
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    private static Path blobs;
    private static BlobStoreContext context;
    private static S3Proxy proxy;
    private static URI endpoint;

    private String bucket;

    @BeforeAll
    static void startS3Proxy() throws Exception {
        blobs = Files.createTempDirectory("emend-s3proxy");
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", blobs.toString());
        context = ContextBuilder.newBuilder("filesystem").overrides(properties).build(BlobStoreContext.class);
        proxy = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    @AfterAll
    static void stopS3Proxy() throws Exception {
        proxy.stop();
        context.close();
        try (var files = Files.walk(blobs)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    protected ObjectStore openEmptyStore() throws IOException {
        bucket = "emend-test-" + BUCKETS.incrementAndGet();
        // A small page size makes listsPastOnePage cross page boundaries.
        return S3ObjectStore.open(S3ObjectStore.Config.compatible(endpoint, bucket, ACCESS_KEY, SECRET_KEY)
                .withListPageSize(10));
    }

    @Test
    void multipartUploadsRoundTripAcrossPartBoundaries() throws IOException {
        long size = 2L * S3ObjectStore.PART_BYTES + 12_345;
        String digest = sha256(new PatternStream(size));
        StoredObject put = store.put("parts", new PatternStream(size), Optional.of(digest));
        assertEquals(size, put.size());
        try (InputStream in = store.get("parts")) {
            assertEquals(digest, sha256(in));
        }
        // A range that straddles the boundary between the first and second part.
        long from = S3ObjectStore.PART_BYTES - 3;
        byte[] expected = new byte[6];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = PatternStream.byteAt(from + i);
        }
        assertArrayEquals(expected, readAll(store.get("parts", from, 6)));
    }

    @Test
    void aMismatchedMultipartUploadIsAbortedAndLeavesNoParts() throws IOException {
        long size = S3ObjectStore.PART_BYTES + 1;
        assertThrows(DigestMismatchException.class, () -> store.put("big", new PatternStream(size),
                Optional.of(sha256(new byte[0]))));
        assertTrue(store.stat("big").isEmpty());
        try (S3Client s3 = rawClient()) {
            assertEquals(List.of(), s3.listMultipartUploads(b -> b.bucket(bucket)).uploads(),
                    "the multipart upload was aborted");
        }
    }

    @Test
    void folderMarkersAreNotListed() throws IOException {
        // Consoles and some tools create "a/"-style keys to show folders; they are not valid object keys.
        try (S3Client s3 = rawClient()) {
            s3.putObject(b -> b.bucket(bucket).key("folder/"), RequestBody.empty());
        }
        store.put("folder/file", new ByteArrayInputStream(new byte[] {1}), Optional.empty());
        assertEquals(List.of("folder/file"), keys(store.list("")));
    }

    @Test
    void aMissingBucketIsReportedWhenNotToBeCreated() {
        var config = S3ObjectStore.Config.compatible(endpoint, "emend-absent", ACCESS_KEY, SECRET_KEY)
                .withCreateBucket(false);
        IOException e = assertThrows(IOException.class, () -> S3ObjectStore.open(config));
        assertTrue(e.getMessage().contains("S3 bucket emend-absent does not exist at " + endpoint), e.getMessage());
    }

    @Test
    void wrongCredentialsAreReported() {
        var config = S3ObjectStore.Config.compatible(endpoint, "emend-any", ACCESS_KEY, "not-the-secret");
        IOException e = assertThrows(IOException.class, () -> S3ObjectStore.open(config));
        assertTrue(e.getMessage().contains("HTTP 403"), e.getMessage());
    }

    @Test
    void configRejectsNonsense() {
        assertThrows(IllegalArgumentException.class,
                () -> S3ObjectStore.Config.compatible(endpoint, "Bad_Bucket", ACCESS_KEY, SECRET_KEY));
        assertThrows(IllegalArgumentException.class,
                () -> S3ObjectStore.Config.compatible(URI.create("ftp://host/"), "ok-bucket", ACCESS_KEY, SECRET_KEY));
        assertThrows(IllegalArgumentException.class,
                () -> S3ObjectStore.Config.compatible(endpoint, "ok-bucket", "", SECRET_KEY));
        assertThrows(IllegalArgumentException.class, () -> S3ObjectStore.Config.aws("ok-bucket", " "));
        assertThrows(IllegalArgumentException.class,
                () -> S3ObjectStore.Config.aws("ok-bucket", "us-east-1").withListPageSize(0));
        String shown = S3ObjectStore.Config.compatible(endpoint, "ok-bucket", ACCESS_KEY, SECRET_KEY).toString();
        assertTrue(!shown.contains(SECRET_KEY), "the secret stays out of toString: " + shown);
    }

    private static S3Client rawClient() {
        return S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY,
                        SECRET_KEY)))
                .build();
    }
}
