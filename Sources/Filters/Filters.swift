import BrokerIngest

/// The rule language PIs write (issue 4) builds on `FieldPath`: a path is checked against the reader
/// schema of the filter's survey when the filter loads.
public enum FilterSchemas {
    /// The reader schema a filter's field paths are checked against.
    public static func schema(for survey: Survey) -> AvroRecordSchema { ReaderSchemas.schema(for: survey) }
}
