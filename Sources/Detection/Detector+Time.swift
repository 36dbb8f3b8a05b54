import UsageModel
import Catalog

extension Detector {
    /// Time: weighs only beside a named jurisdiction, so it is estimated only where an alert is
    /// possible (restricted use, a jurisdiction reached): it is the costliest evidence to compute.
    /// (An account whose calls all came from its instances' roles has no first or last call.)
    func timeZoneEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let restricted = c.restricted
        if restricted, !draft.reached.isEmpty, let activity = c.activity, activity.lastSeen >= activity.firstSeen,
            let tz = TimeZoneEstimate.estimate(
                hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen)
        {
            let sign = tz.offsetHours >= 0 ? "+" : "-"
            let matching = draft.reached.filter { Self.utcOffsets[$0.description]?.contains(tz.offsetHours) == true }
            let weight = !matching.isEmpty && tz.confidence >= config.timeZoneConfidence ? config.timeZoneWeight : 0
            var detail =
                "activity fits UTC\(sign)\(abs(tz.offsetHours)) (posterior \(JSONWriter.formatNumber(tz.confidence, decimals: 2)) over 27 offsets, \(tz.activeHours) active hours)"
            if let first = matching.first { detail += ", the time of \(first)" }
            draft.evidence.append(Evidence(kind: .time, detail: detail, weight: weight))
        }
    }

    /// Holidays: whether the account rests on the PRC's public holidays and works its make-up weekend
    /// days; weighs only beside a link to China.
    func holidayEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let restricted = c.restricted
        if restricted, !draft.reached.isEmpty, let activity = c.activity, activity.lastSeen >= activity.firstSeen {
            let calendar = HolidayCalendar.prc
            let days = calendar.localDay(activity.firstSeen)...calendar.localDay(activity.lastSeen)
            if let fit = HolidayFit.estimate(
                activeDays: activity.activeDays, days: days, calendar: calendar, dip: config.holidayDip)
            {
                draft.holidayRatio = fit.logLikelihoodRatio
                let china = draft.reached.contains(Self.china)
                let weight = china && fit.logLikelihoodRatio >= config.holidayMinimumRatio ? config.holidayWeight : 0
                let percent = JSONWriter.formatNumber(100 * fit.workingRate, decimals: 0)
                draft.evidence.append(
                    Evidence(
                        kind: .holiday,
                        detail:
                            "active on \(fit.activeHolidays) of \(fit.holidays) PRC public holiday(s) on working days and \(fit.activeMakeupDays) of \(fit.makeupDays) make-up weekend day(s), against \(percent)% of working days; log-likelihood ratio \(JSONWriter.formatNumber(fit.logLikelihoodRatio, decimals: 2)) for the PRC calendar (posterior \(JSONWriter.formatNumber(fit.confidence, decimals: 2)))",
                        weight: weight))
            }
        }
    }
}
