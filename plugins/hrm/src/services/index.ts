import type { HrmDeps } from '../deps.js';
import type { ResolvedHrmOptions } from '../options.js';
import { AnnouncementService } from './announcements.js';
import { DeskService } from './desk.js';
import { EmployeeService } from './employees.js';
import { ExitInterviewService } from './exits.js';
import { OnboardingService } from './onboarding.js';
import { PositionService } from './positions.js';
import { PrivateDataService } from './private-data.js';
import { RecruitingService } from './recruiting.js';
import { RetentionService } from './retention.js';
import { ReviewService } from './reviews.js';
import { SlaService } from './sla.js';
import { StaffDirectory } from './staff.js';
import { SurveyService } from './surveys.js';
import { TimelineService } from './timeline.js';
import { UnitService } from './units.js';

/** HRM's services, each constructed once with what it uses. */
export function createServices(deps: HrmDeps, options: ResolvedHrmOptions) {
  const staff = new StaffDirectory(deps);
  const units = new UnitService(deps);
  const positions = new PositionService(deps, units, staff);
  const employees = new EmployeeService(deps, staff, units, positions);
  const surveys = new SurveyService(deps, staff, options);
  const desk = new DeskService(deps, staff, units, options);
  const reviews = new ReviewService(deps, staff, options);
  return {
    staff,
    units,
    positions,
    employees,
    privateData: new PrivateDataService(deps, staff),
    timeline: new TimelineService(deps, staff),
    surveys,
    desk,
    sla: new SlaService(deps, desk, options),
    reviews,
    announcements: new AnnouncementService(deps, staff, units, options),
    retention: new RetentionService(deps, staff, { reviews, surveys, desk }, options),
    recruiting: new RecruitingService(deps, { staff, units, positions, employees }, options),
    onboarding: new OnboardingService(deps, { staff, units, positions }, options),
    exits: new ExitInterviewService(deps, { staff, employees }, options),
  };
}

export type HrmServices = ReturnType<typeof createServices>;
