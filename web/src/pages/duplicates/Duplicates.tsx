import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import type { IntakeSettings } from '../../types.ts';
import { FormRules } from './FormRules.tsx';
import { InstitutionRule } from './InstitutionRule.tsx';
import { PossibleDuplicates } from './PossibleDuplicates.tsx';

type Tab = 'queue' | 'rules';

/** Duplicates: the queue of likely duplicates the exact rules miss, and the rules themselves (seed 002). */
export function DuplicatesPage() {
  const [tab, setTab] = useState<Tab>('queue');
  const settings = useQuery({ queryKey: ['intake-settings'], queryFn: () => api.get<IntakeSettings>('/api/intake/settings') });
  const tabs: [Tab, string][] = [
    ['queue', 'Possible duplicates'],
    ['rules', 'Duplicate rules'],
  ];
  return (
    <section>
      <h1>Duplicates</h1>
      <div role="tablist" aria-label="Duplicates" className="tabs">
        {tabs.map(([key, text]) => (
          <button key={key} role="tab" type="button" id={`dup-tab-${key}`} aria-selected={tab === key} aria-controls={`dup-panel-${key}`} onClick={() => setTab(key)}>
            {text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`dup-panel-${tab}`} aria-labelledby={`dup-tab-${tab}`}>
        {tab === 'queue' ? (
          <PossibleDuplicates />
        ) : (
          <>
            <InstitutionRule />
            <FormRules institutionRule={settings.data?.duplicateRule} />
          </>
        )}
      </div>
    </section>
  );
}
