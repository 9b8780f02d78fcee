package io.emend.bench.registry;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A throw-away RS256 key pair for one bench run: the registry verifies with the public half (written as PEM), the
 * bench signs its own bearer tokens with the private half, which never leaves this process.
 */
final class SigningKey {

    private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KeyPair pair;

    private SigningKey(KeyPair pair) {
        this.pair = pair;
    }

    static SigningKey generate() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return new SigningKey(generator.generateKeyPair());
    }

    /** Writes the public key as an X.509 {@code PUBLIC KEY} PEM, the form {@code mp.jwt.verify.publickey} reads. */
    Path writePublicPem(Path file) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(pair.getPublic().getEncoded());
        Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n");
        return file;
    }

    /** A JWT the registry accepts: issuer {@code emend}, the user as {@code upn}, roles in {@code groups}. */
    String token(String user, String role, Instant expires) throws GeneralSecurityException, IOException {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", "emend");
        claims.put("sub", user);
        claims.put("upn", user);
        claims.put("groups", List.of(role));
        claims.put("iat", Instant.now().getEpochSecond());
        claims.put("exp", expires.getEpochSecond());
        String signingInput = URL.encodeToString(JSON.writeValueAsBytes(Map.of("alg", "RS256", "typ", "JWT")))
                + "." + URL.encodeToString(JSON.writeValueAsBytes(claims));
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initSign(pair.getPrivate());
        rsa.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + URL.encodeToString(rsa.sign());
    }
}
