package io.emend.cli.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;

/**
 * The local stack's RS256 key pair, kept as PEM under {@code .emend/keys/}: {@code private.pem} (PKCS#8, readable by
 * the owner only) signs tokens, {@code public.pem} (X.509 SubjectPublicKeyInfo) is what the services verify with.
 * Made once by {@code ./emend up}; later runs load it so that tokens stay valid across restarts.
 */
public record SigningKeys(PrivateKey privateKey, PublicKey publicKey) {

    public static final String PRIVATE_FILE = "private.pem";
    public static final String PUBLIC_FILE = "public.pem";
    private static final int RSA_BITS = 2048;

    public static Path publicKeyFile(Path dir) {
        return dir.resolve(PUBLIC_FILE);
    }

    /** Loads the pair in {@code dir}, or makes and stores a new one when there is none. */
    public static SigningKeys createOrLoad(Path dir) {
        return load(dir).orElseGet(() -> create(dir));
    }

    /** The pair in {@code dir}; empty when the folder holds no private key. */
    public static Optional<SigningKeys> load(Path dir) {
        Path privateFile = dir.resolve(PRIVATE_FILE);
        if (!Files.isRegularFile(privateFile)) {
            return Optional.empty();
        }
        try {
            KeyFactory rsa = KeyFactory.getInstance("RSA");
            PrivateKey privateKey = rsa.generatePrivate(new PKCS8EncodedKeySpec(readPem(privateFile, "PRIVATE KEY")));
            PublicKey publicKey;
            if (privateKey instanceof RSAPrivateCrtKey crt) {
                publicKey = rsa.generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
            } else {
                publicKey = rsa.generatePublic(new X509EncodedKeySpec(readPem(dir.resolve(PUBLIC_FILE), "PUBLIC KEY")));
            }
            if (!Files.isRegularFile(dir.resolve(PUBLIC_FILE))) {
                // The public half is derivable; restore it rather than fail, the services need the file.
                write(dir.resolve(PUBLIC_FILE), pem("PUBLIC KEY", publicKey.getEncoded()), false);
            }
            return Optional.of(new SigningKeys(privateKey, publicKey));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore " + dir.resolve(PUBLIC_FILE) + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("the signing key in " + privateFile + " is unreadable (" + e.getMessage()
                    + "); delete " + dir + " and run ./emend up again to make a new pair");
        }
    }

    private static SigningKeys create(Path dir) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(RSA_BITS);
            KeyPair pair = generator.generateKeyPair();
            Files.createDirectories(dir);
            write(dir.resolve(PRIVATE_FILE), pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true);
            write(dir.resolve(PUBLIC_FILE), pem("PUBLIC KEY", pair.getPublic().getEncoded()), false);
            return new SigningKeys(pair.getPrivate(), pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make RSA keys: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write signing keys to " + dir + ": " + e.getMessage(), e);
        }
    }

    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static byte[] readPem(Path file, String type) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("no " + type + " block in " + file.getFileName());
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }

    /** Writes through a temporary file and a rename, so a crash never leaves half a key behind. */
    private static void write(Path file, String content, boolean ownerOnly) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (ownerOnly && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(tmp, content, StandardCharsets.US_ASCII);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
