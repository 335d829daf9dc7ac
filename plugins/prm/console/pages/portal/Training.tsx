import { Anchor, Badge, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { Failure, Loading, ok, useClient, usePrmT } from '../../lib.js';

/** The course catalogue and the partner's staff certifications (valid as of now). */
export function Training({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const courses = useQuery({ queryKey: ['prm', 'courses'], queryFn: async () => ok(await client.GET('/api/v1/prm/courses', { params: { query: { limit: 200 } } })).data });
  const certs = useQuery({
    queryKey: ['prm', 'certifications', partnerId],
    queryFn: async () => ok(await client.GET('/api/v1/prm/certifications', { params: { query: { partnerId, limit: 200 } } })).data,
  });
  if (courses.isPending || certs.isPending) return <Loading />;
  if (courses.error || certs.error) return <Failure error={courses.error ?? certs.error} />;
  return (
    <Stack>
      <Title order={2} size="h3">
        {t('training.courses')}
      </Title>
      {courses.data.length === 0 && <Text c="gray.7">{t('training.noCourses')}</Text>}
      {courses.data.map((course) => {
        const held = certs.data.filter((c) => c.courseId === course.id);
        return (
          <Card key={course.id} withBorder>
            <Text fw={600} translate="no">
              {course.title}
            </Text>
            {course.description && (
              <Text size="sm" translate="no">
                {course.description}
              </Text>
            )}
            <Text size="sm" c="gray.7">
              {course.validityDays ? t('training.validity', { days: format.number(course.validityDays) }) : t('training.noExpiry')}
            </Text>
            <Text size="sm">{t('training.certified', { valid: format.number(held.filter((c) => c.valid).length), all: format.number(held.length) })}</Text>
          </Card>
        );
      })}
    </Stack>
  );
}

/** Content the firm shares with its partners (and what partners share with each other). */
export function SharedContent() {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const docs = useQuery({ queryKey: ['prm', 'documents'], queryFn: async () => ok(await client.GET('/api/v1/prm/documents', { params: { query: { limit: 200 } } })).data });
  if (docs.isPending) return <Loading />;
  if (docs.error) return <Failure error={docs.error} />;
  if (docs.data.length === 0) return <Text c="gray.7">{t('content.none')}</Text>;
  return (
    <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('content.title')}</Table.Th>
            <Table.Th>{t('content.for')}</Table.Th>
            <Table.Th>{t('content.added')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {docs.data.map((d) => (
            <Table.Tr key={d.id}>
              <Table.Td translate="no">
                {d.url ? (
                  <Anchor href={d.url} target="_blank" rel="noopener noreferrer">
                    {d.title}
                  </Anchor>
                ) : (
                  d.title
                )}
                {d.description && <Text size="xs">{d.description}</Text>}
              </Table.Td>
              <Table.Td>
                {d.tiers?.length
                  ? d.tiers.map((tier) => (
                      <Badge variant="light" c="dark.8" key={tier} mr={4} translate="no">
                        {tier}
                      </Badge>
                    ))
                  : t('content.everyone')}
              </Table.Td>
              <Table.Td>{format.date(d.createdAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
