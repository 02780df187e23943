import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

@Suite struct AvroSchemaTests {
    @Test func parsesPrimitivesRecordsAndNamedReferences() throws {
        let schema = try AvroSchema.parse(json: """
        {"type":"record","name":"alert","namespace":"ztf","fields":[
          {"name":"id","type":"long"},
          {"name":"cut","type":{"type":"record","name":"cutout","fields":[{"name":"data","type":"bytes"}]}},
          {"name":"cut2","type":"cutout"},
          {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
          {"name":"tags","type":{"type":"map","values":"string"}},
          {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"maybe","type":["null","double"],"default":null}]}
        """)
        guard case .record(let r) = schema else { Issue.record("not a record"); return }
        #expect(r.name == "ztf.alert")
        #expect(r.fields.map(\.name) == ["id", "cut", "cut2", "kind", "tags", "ts", "maybe"])
        guard case .record(let cut) = r.fields[2].type else { Issue.record("cut2 is not the cutout record"); return }
        #expect(cut.name == "ztf.cutout")
        if case .long = r.fields[5].type {} else { Issue.record("a logical type decodes as its base type") }
        #expect(r.fields[6].defaultValue == .null)
        #expect(r.index(of: "kind") == 3)
    }

    @Test func errorsSayWhereAndWhy() {
        #expect(throws: AvroSchemaError.self) { try AvroSchema.parse(json: "{\"type\":\"record\",\"name\":\"a\"}") }
        do {
            _ = try AvroSchema.parse(json: #"{"type":"record","name":"a","fields":[{"name":"x","type":"nosuch"}]}"#)
            Issue.record("unknown type accepted")
        } catch let e as AvroSchemaError {
            #expect(e.path == "$.x")
            #expect(e.reason == "unknown type 'nosuch'")
        } catch { Issue.record("\(error)") }
        do {
            _ = try AvroSchema.parse(json: #"{"type":"record","name":"node","fields":[{"name":"next","type":["null","node"]}]}"#)
            Issue.record("recursive schema accepted")
        } catch let e as AvroSchemaError {
            #expect(e.reason.contains("recursive"))
        } catch { Issue.record("\(error)") }
        #expect(throws: AvroSchemaError.self) { try AvroSchema.parse(json: "not json") }
    }

    /// Real ZTF writer schemas give null defaults to ["float","null"] fields: they must still parse.
    @Test func toleratesADefaultOfAnotherUnionBranch() throws {
        let s = try AvroSchema.parse(json: #"{"type":"record","name":"c","fields":[{"name":"m","type":["float","null"],"default":null}]}"#)
        guard case .record(let r) = s else { return }
        #expect(r.fields[0].defaultValue == .null)
    }

    @Test func jsonTextDefinesEachNamedTypeOnceAndAvroCAcceptsIt() throws {
        let schema = try AvroSchema.parse(json: #"""
        {"type":"record","name":"a","fields":[
          {"name":"s","type":{"type":"record","name":"src","fields":[{"name":"f","type":"float"}]}},
          {"name":"prv","type":{"type":"array","items":"src"}}]}
        """#)
        let text = schema.jsonText
        #expect(text.components(separatedBy: "\"type\":\"record\",\"name\":\"src\"").count == 2)
        #expect(text.contains("\"items\":\"src\""))
        // Avro C must accept what we hand it.
        _ = try AvroCRecordReader(writer: schema, plan: SchemaResolver.plan(writer: schema, reader: schema))
    }

    @Test(needsSharedData) func schemaFolderLoadsTheLsstTreeByRegistryId() throws {
        let folder = try SchemaFolder(path: Paths.data("lsst-alert-packet/schema"))
        for id: UInt32 in [700, 702, 704, 800, 900, 1000, 1100, 1101] {
            guard case .record(let r) = try folder.schema(id: id) else { Issue.record("\(id) not a record"); continue }
            #expect(r.name == "lsst.v\(id / 100)_\(id % 100).alert")
            #expect(r.index(of: "diaSource") != nil)
        }
        // A relative path with ".." (as a person types it) finds the sibling types too.
        let relative = try SchemaFolder(path: Paths.sharedData.path + "/../data/lsst-alert-packet/schema")
        _ = try relative.schema(id: 900)
        let e = expectDecodingError { _ = try folder.schema(id: 4242) }
        #expect(e?.kind == .unknownSchemaId)
        #expect(e?.reason.contains("42/42") == true)
    }
}
