import DriverSupport
import EC2Core
import Testing

/// SHA-256/HMAC against NIST and RFC 4231, SigV4 against AWS's published test suite and
/// against botocore 1.43.11 (an independent signer) for the shapes this driver sends.
@Suite struct SigV4Tests {
    let key = Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", source: "test")
    /// 2015-08-30T12:36:00Z, the test suite's time.
    let suiteTime = 1_440_938_160

    @Test func sha256MatchesNISTExamples() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hmacMatchesRFC4231() {
        #expect(hexString(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Case 6: a key longer than the block is hashed first.
        #expect(hexString(SHA256.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                      message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func authorization(_ headers: [(String, String)]) -> String { headers.first { $0.0 == "authorization" }?.1 ?? "" }

    @Test func awsTestSuiteGetVanilla() {
        let signer = SigV4Signer(service: "service", region: "us-east-1")
        let h = signer.sign(method: "GET", host: "example.amazonaws.com", path: "/", query: [], headers: [],
                            body: [], credentials: key, time: suiteTime)
        #expect(h.first { $0.0 == "x-amz-date" }?.1 == "20150830T123600Z")
        #expect(authorization(h) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func awsTestSuitePostVanillaAndQueryOrder() {
        let signer = SigV4Signer(service: "service", region: "us-east-1")
        let post = signer.sign(method: "POST", host: "example.amazonaws.com", path: "/", query: [], headers: [],
                               body: [], credentials: key, time: suiteTime)
        #expect(authorization(post).hasSuffix("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
        // get-vanilla-query-order-key-case: parameters are sorted before signing.
        let query = signer.sign(method: "GET", host: "example.amazonaws.com", path: "/",
                                query: [("Param2", "value2"), ("Param1", "value1")], headers: [],
                                body: [], credentials: key, time: suiteTime)
        #expect(authorization(query).hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    @Test func formPostWithSessionTokenMatchesBotocore() {
        var session = key
        session.sessionToken = "session-token-example"
        let signer = SigV4Signer(service: "ec2", region: "us-east-1")
        let body = Array("Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Apool&Filter.1.Value.1=a+b".utf8)
        let h = signer.sign(method: "POST", host: "ec2.us-east-1.amazonaws.com", path: "/", query: [],
                            headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
                            body: body, credentials: session, time: suiteTime)
        #expect(h.contains { $0 == ("x-amz-security-token", "session-token-example") })
        #expect(authorization(h) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
                + "Signature=8b46d41686f587781b77d04b674c2dd1f910fe5aac247060860e2ad83f7fa829")
    }

    @Test func hostWithPortIsSignedAsSent() {
        let signer = SigV4Signer(service: "ec2", region: "eu-west-1")
        let h = signer.sign(method: "POST", host: "127.0.0.1:5000", path: "/", query: [],
                            headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
                            body: Array("Action=DescribeInstances&Version=2016-11-15".utf8), credentials: key, time: suiteTime)
        #expect(authorization(h).hasSuffix("Signature=1170401b6b3389d96bee3bf60d7ebe0ab7ff51f11a43c093a3a33bdb8d363fa5"))
    }

    @Test func bodyEncodingIsFormStyleAndEscapesReservedCharacters() {
        #expect(FormEncoding.body([("Filter.1.Name", "tag:pool"), ("V", "a b/c+d=é~")])
                == "Filter.1.Name=tag%3Apool&V=a+b%2Fc%2Bd%3D%C3%A9~")
        #expect(FormEncoding.awsEscape("a b") == "a%20b")
    }
}
