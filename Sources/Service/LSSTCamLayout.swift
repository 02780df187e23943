/// The fields a Rubin LSSTCam alert of schema 10.0 carries (lsst-alert-packet, `schema/10/0`:
/// `alert`, `diaSource`, `diaForcedSource`), so that simulated alerts are written in the same layout:
/// the project's reader schema unites every version's fields (its diaSource has 216), which a real
/// packet does not write.
enum LSSTCamLayout {
    static let alert: Set<String> = [
        "diaSourceId", "observation_reason", "target_name", "diaSource", "prvDiaSources", "prvDiaForcedSources",
        "diaObject", "ssSource", "mpc_orbits", "cutoutDifference", "cutoutScience", "cutoutTemplate",
    ]
    static let diaSource: Set<String> = [
        "diaSourceId", "visit", "detector", "diaObjectId", "ssObjectId", "parentDiaSourceId", "midpointMjdTai", "ra",
        "raErr", "dec", "decErr", "ra_dec_Cov", "x", "xErr", "y", "yErr", "centroid_flag", "apFlux", "apFluxErr",
        "apFlux_flag", "apFlux_flag_apertureTruncated", "isNegative", "snr", "psfFlux", "psfFluxErr", "psfLnL",
        "psfChi2", "psfNdata", "psfFlux_flag", "psfFlux_flag_edge", "psfFlux_flag_noGoodPixels", "trailFlux",
        "trailFluxErr", "trailRa", "trailRaErr", "trailDec", "trailDecErr", "trailLength", "trailLengthErr",
        "trailAngle", "trailAngleErr", "trailChi2", "trailNdata", "trail_flag_edge", "dipoleMeanFlux",
        "dipoleMeanFluxErr", "dipoleFluxDiff", "dipoleFluxDiffErr", "dipoleLength", "dipoleAngle", "dipoleChi2",
        "dipoleNdata", "scienceFlux", "scienceFluxErr", "forced_PsfFlux_flag", "forced_PsfFlux_flag_edge",
        "forced_PsfFlux_flag_noGoodPixels", "templateFlux", "templateFluxErr", "ixx", "iyy", "ixy", "ixxPSF",
        "iyyPSF", "ixyPSF", "shape_flag", "shape_flag_no_pixels", "shape_flag_not_contained",
        "shape_flag_parent_source", "extendedness", "reliability", "band", "isDipole", "dipoleFitAttempted",
        "timeProcessedMjdTai", "timeWithdrawnMjdTai", "bboxSize", "pixelFlags", "pixelFlags_bad", "pixelFlags_cr",
        "pixelFlags_crCenter", "pixelFlags_edge", "pixelFlags_nodata", "pixelFlags_nodataCenter",
        "pixelFlags_interpolated", "pixelFlags_interpolatedCenter", "pixelFlags_offimage", "pixelFlags_saturated",
        "pixelFlags_saturatedCenter", "pixelFlags_suspect", "pixelFlags_suspectCenter", "pixelFlags_streak",
        "pixelFlags_streakCenter", "pixelFlags_injected", "pixelFlags_injectedCenter",
        "pixelFlags_injected_template", "pixelFlags_injected_templateCenter", "glint_trail",
    ]
    static let diaForcedSource: Set<String> = [
        "diaForcedSourceId", "diaObjectId", "ra", "dec", "visit", "detector", "psfFlux", "psfFluxErr",
        "midpointMjdTai", "scienceFlux", "scienceFluxErr", "band", "timeProcessedMjdTai", "timeWithdrawnMjdTai",
    ]
}
