/// EC2 responses in the shapes AWS documents and moto 5.2.1 returns (trimmed real output).
import DriverSupport
enum Fixtures {
    static func error(_ code: String, _ message: String) -> String {
        #"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>\#(code)</Code><Message>\#(message)</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"#
    }

    /// The auth layer's envelope (moto's and STS-style services').
    static let authFailure = #"<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Errors><Error><Type>Sender</Type><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestId>request-id</RequestId></ErrorResponse>"#

    static func instance(_ id: String, state: String = "running", type: String = "m5.large", token: String = "",
                         tags: [String: String] = ["pool": "p1"], spot: Bool = false) -> String {
        let tagXML = tags.keys.sorted().map { "<item><key>\($0)</key><value>\(tags[$0]!)</value></item>" }.joined()
        return """
        <item><instanceId>\(id)</instanceId><imageId>ami-760aaa0f</imageId>
          <instanceState><code>16</code><name>\(state)</name></instanceState>
          <privateDnsName>ip-172-31-0-4.ec2.internal</privateDnsName><instanceType>\(type)</instanceType>
          <launchTime>2026-11-29T10:00:00.000Z</launchTime>
          <placement><availabilityZone>us-east-1a</availabilityZone><tenancy>default</tenancy></placement>
          <subnetId>subnet-0a</subnetId><vpcId>vpc-1</vpcId><privateIpAddress>172.31.0.4</privateIpAddress>
          <ipAddress>54.214.146.209</ipAddress>\(spot ? "<instanceLifecycle>spot</instanceLifecycle>" : "")
          <tagSet>\(tagXML)</tagSet><clientToken>\(token)</clientToken>
        </item>
        """
    }

    static func describe(_ reservations: [[String]], next: String? = nil) -> String {
        let body = reservations.enumerated().map { i, items in
            "<item><reservationId>r-\(i)</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>\(items.joined())</instancesSet></item>"
        }.joined()
        return #"<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>request-id</requestId><reservationSet>\#(body)</reservationSet>"#
            + (next.map { "<nextToken>\($0)</nextToken>" } ?? "") + "</DescribeInstancesResponse>"
    }

    static func run(_ items: [String]) -> String {
        #"<?xml version="1.0" encoding="UTF-8"?><RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>request-id</requestId><reservationId>r-bc510de7d0857b5a7</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>\#(items.joined())</instancesSet></RunInstancesResponse>"#
    }

    static let terminate = #"<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instancesSet><item><instanceId>i-1234567890abcdef0</instanceId><currentState><code>32</code><name>shutting-down</name></currentState><previousState><code>16</code><name>running</name></previousState></item></instancesSet></TerminateInstancesResponse>"#

    static let createTags = #"<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></CreateTagsResponse>"#
    static let importKeyPair = #"<ImportKeyPairResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><keyName>k</keyName><keyFingerprint>1f:51:ae</keyFingerprint><keyPairId>key-1</keyPairId></ImportKeyPairResponse>"#

    static let instanceTypes = """
    <DescribeInstanceTypesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instanceTypeSet>
      <item><instanceType>m5.large</instanceType><currentGeneration>true</currentGeneration>
        <vCpuInfo><defaultVCpus>2</defaultVCpus><defaultCores>1</defaultCores></vCpuInfo>
        <memoryInfo><sizeInMiB>8192</sizeInMiB></memoryInfo><instanceStorageSupported>false</instanceStorageSupported></item>
      <item><instanceType>g4dn.xlarge</instanceType>
        <vCpuInfo><defaultVCpus>4</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>16384</sizeInMiB></memoryInfo>
        <instanceStorageInfo><totalSizeInGB>125</totalSizeInGB></instanceStorageInfo>
        <gpuInfo><gpus><item><name>T4</name><manufacturer>NVIDIA</manufacturer><count>1</count><memoryInfo><sizeInMiB>16384</sizeInMiB></memoryInfo></item></gpus><totalGpuMemoryInMiB>16384</totalGpuMemoryInMiB></gpuInfo></item>
    </instanceTypeSet></DescribeInstanceTypesResponse>
    """

    static let spotPrices = """
    <DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><spotPriceHistorySet>
      <item><instanceType>m5.large</instanceType><productDescription>Linux/UNIX</productDescription><spotPrice>0.035000</spotPrice><timestamp>2026-11-29T09:00:00.000Z</timestamp><availabilityZone>us-east-1a</availabilityZone></item>
      <item><instanceType>m5.large</instanceType><productDescription>Linux/UNIX (Amazon VPC)</productDescription><spotPrice>0.041000</spotPrice><timestamp>2026-11-29T09:00:00.000Z</timestamp><availabilityZone>us-east-1b</availabilityZone></item>
      <item><instanceType>m5.large</instanceType><productDescription>Windows</productDescription><spotPrice>0.2</spotPrice><timestamp>2026-11-29T09:00:00.000Z</timestamp><availabilityZone>us-east-1b</availabilityZone></item>
    </spotPriceHistorySet><nextToken/></DescribeSpotPriceHistoryResponse>
    """
}
