package io.emend.cli.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenIssuerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void tokenVerifiesWithThePublicKeyFileAndCarriesTheClaimsServicesRead() throws Exception {
        SigningKeys keys = SigningKeys.createOrLoad(dir);
        Instant now = Instant.parse("2025-06-01T12:00:00Z");
        String token = new TokenIssuer(keys, Clock.fixed(now, ZoneOffset.UTC))
                .issue("ada", Role.WRITER, Duration.ofMinutes(30)).compact();

        String[] parts = token.split("\\.");
        assertEquals(3, parts.length, token);
        // Verify as a service would: only with public.pem, read independently of SigningKeys.
        assertTrue(verifies(parts, publicKeyFromPem(dir.resolve("public.pem"))), "signature must verify");

        JsonNode header = decode(parts[0]);
        assertEquals("RS256", header.path("alg").asText());
        JsonNode claims = decode(parts[1]);
        assertEquals("emend", claims.path("iss").asText());
        assertEquals("ada", claims.path("upn").asText());
        assertEquals("ada", claims.path("sub").asText());
        assertEquals(List.of("reader", "writer"), JSON.convertValue(claims.path("groups"), List.class));
        assertEquals(now.getEpochSecond(), claims.path("iat").asLong());
        assertEquals(now.plus(Duration.ofMinutes(30)).getEpochSecond(), claims.path("exp").asLong());
        assertFalse(claims.path("jti").asText().isEmpty());
    }

    @Test
    void aTamperedTokenDoesNotVerify() throws Exception {
        SigningKeys keys = SigningKeys.createOrLoad(dir);
        String[] parts = new TokenIssuer(keys).issue("eve", Role.READER, Duration.ofMinutes(5)).compact().split("\\.");
        String promoted = Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                        .replace("[\"reader\"]", "[\"reader\",\"writer\",\"admin\"]").getBytes(StandardCharsets.UTF_8));
        assertFalse(verifies(new String[] {parts[0], promoted, parts[2]}, keys.publicKey()));
        // and a token is bound to its key pair: another pair's public key rejects it
        SigningKeys other = SigningKeys.createOrLoad(dir.resolve("other"));
        assertFalse(verifies(parts, other.publicKey()));
    }

    @Test
    void adminImpliesWriterAndReader() {
        assertEquals(List.of("reader"), Role.READER.groups());
        assertEquals(List.of("reader", "writer", "admin"), Role.ADMIN.groups());
    }

    @Test
    void keysAreMadeOnceAndReloaded() throws Exception {
        SigningKeys first = SigningKeys.createOrLoad(dir);
        SigningKeys second = SigningKeys.createOrLoad(dir);
        assertArrayEquals(first.publicKey().getEncoded(), second.publicKey().getEncoded());
        assertArrayEquals(first.privateKey().getEncoded(), second.privateKey().getEncoded());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("private.pem"))));
        assertTrue(Files.readString(dir.resolve("public.pem")).startsWith("-----BEGIN PUBLIC KEY-----\n"));
    }

    @Test
    void aLostPublicKeyFileIsRestoredFromThePrivateKey() throws Exception {
        SigningKeys first = SigningKeys.createOrLoad(dir);
        Files.delete(dir.resolve("public.pem"));
        SigningKeys.createOrLoad(dir);
        assertArrayEquals(first.publicKey().getEncoded(), publicKeyFromPem(dir.resolve("public.pem")).getEncoded());
    }

    @Test
    void aDamagedPrivateKeySaysWhatToDo() throws Exception {
        SigningKeys.createOrLoad(dir);
        Files.writeString(dir.resolve("private.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SigningKeys.load(dir));
        assertTrue(e.getMessage().contains("delete " + dir), e.getMessage());
    }

    @Test
    void issuerRejectsAnEmptyUserAndAnUnboundedTtl() {
        TokenIssuer issuer = new TokenIssuer(SigningKeys.createOrLoad(dir));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue(" ", Role.READER, Duration.ofMinutes(1)));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue("ada", Role.READER, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> issuer.issue("ada", Role.READER, Duration.ofDays(366)));
    }

    @Test
    void tokenCommandPrintsAVerifiableToken() throws Exception {
        SigningKeys.createOrLoad(dir.resolve("keys"));
        EmendRun run = EmendRun.of("token", "--role", "admin", "--ttl", "2h", "--user", "grace", "--data-dir", dir.toString());
        assertEquals(0, run.exitCode(), run.toString());
        String[] parts = run.out().strip().split("\\.");
        assertTrue(verifies(parts, publicKeyFromPem(dir.resolve("keys/public.pem"))));
        JsonNode claims = decode(parts[1]);
        assertEquals("grace", claims.path("upn").asText());
        assertEquals(List.of("reader", "writer", "admin"), JSON.convertValue(claims.path("groups"), List.class));
        assertEquals(7200, claims.path("exp").asLong() - claims.path("iat").asLong());

        EmendRun asJson = EmendRun.of("token", "--role", "reader", "--json", "--data-dir", dir.toString());
        assertEquals(0, asJson.exitCode(), asJson.toString());
        JsonNode printed = JSON.readTree(asJson.out());
        assertEquals("reader", printed.path("role").asText());
        assertTrue(verifies(printed.path("token").asText().split("\\."), publicKeyFromPem(dir.resolve("keys/public.pem"))));
    }

    @Test
    void tokenCommandWithoutKeysSaysToRunUp() {
        EmendRun run = EmendRun.of("token", "--role", "reader", "--data-dir", dir.toString());
        assertEquals(1, run.exitCode(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().contains("./emend up"), run.toString());
    }

    private static PublicKey publicKeyFromPem(Path file) throws Exception {
        String pem = Files.readString(file).replace("-----BEGIN PUBLIC KEY-----", "")
                .replace("-----END PUBLIC KEY-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(pem)));
    }

    private static boolean verifies(String[] parts, PublicKey key) throws Exception {
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initVerify(key);
        rs256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        return rs256.verify(Base64.getUrlDecoder().decode(parts[2]));
    }

    private static JsonNode decode(String part) throws Exception {
        return JSON.readTree(Base64.getUrlDecoder().decode(part));
    }
}
